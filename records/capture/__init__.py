"""Capture completeness (issue 12 §1): what makes a stored message a complete, unaltered
record.

- ``versions``: a message's versions. The stored ``content`` is the message as first
  received and never changes (the database refuses it: records migration
  ``0006_capture_message_immutable``); a citizen's edits are recorded beside it, in
  ``content_history``, and the current version is read from there.
- ``alerts``: inbound media that could not be captured (Meta keeps a media id for 7
  days) is an alert: a ``media.missing`` event on the stream, the media row's status, and
  a count for operators.
"""
