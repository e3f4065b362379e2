"""Inbound messages (``value.messages[]`` and change-level ``errors``) → normalized rows, and
``user_preferences`` (marketing stop/resume in WhatsApp) → consent records.

Contract (used by ``processing``): ``handle_messages(change)`` and
``handle_user_preferences(change)`` run inside the change's agency scope and a transaction;
they are idempotent (a redelivered change creates nothing new).

Every message becomes one ``Message`` row (direction in, status received), keyed by its
wamid: a wamid already stored is skipped before anything else happens, so a redelivered
webhook records no second row, applies no second edit and sends no second keyword reply.
``content`` has the outbound stored form, ``{"type": t, t: <Meta's payload for t>}``.

- The contact is found by ``wa_id`` or business-scoped user id (``from_user_id``: 2026
  username users may have no phone), created if new; its profile name follows ``contacts[]``.
- The conversation (number + contact) is created if new; ``last_inbound_at`` and
  ``window_expires_at`` (+24 h) move to the message's own timestamp, never backwards, so a
  late old message cannot shrink the window. A new message reopens a pending, snoozed or
  resolved conversation (``conversation.status``, reason ``citizen_wrote``). WhatsApp's
  ``system`` notices neither open the window nor reopen.
- In the same UPDATE, the inbox's list columns: the snippet of the latest message
  (``messaging.previews``), the unread count and ``waiting_since`` (the citizen's messages;
  a reaction moves only the snippet; notices, edits and revokes none of them).
- Media (image, video, audio, document, sticker) get a pending ``MediaObject``; its download
  is scheduled after commit (``media.schedule_download``).
- ``revoke`` marks the original ``revoked_at`` (its content is kept: it is a record);
  ``edit`` adds the new version to the original's ``content_history`` and moves
  ``edited_at``; the original's ``content`` is never changed (a database trigger refuses it;
  readers take the current version from ``records.capture.versions``). Both are also rows
  of their own. If the original arrives after its edit/revoke, it is applied then.
- ``system`` ``user_changed_number`` moves the contact to the new number (unless another
  contact already has it); ``user_changed_user_id`` likewise for the business-scoped id.
- Change-level ``errors`` (Meta could not deliver what the citizen sent) go on the rows of
  the messages the change lists; with no message but a contact, on one ``errors`` row per
  contact (sender system); with neither, the change is quarantined with Meta's error.
- Text and template quick replies go through the opt-out/opt-in keywords (``keywords``).

Cost: a change may hold a number's messages from many webhooks (``processing`` merges
them). The common messages, what citizens write (text, media, interactive…), are stored
together in a fixed number of queries however many they are: one finds the contacts, one
inserts the new ones, likewise for conversations, media objects and the rows (INSERT … ON
CONFLICT DO NOTHING RETURNING, so a concurrent worker's rows are skipped as the unique
constraints decide), one UPDATE moves every window. A message that acts on others or on
consent (edit, revoke, ``system``, a keyword) is applied on its own, in its place in the
change's order, as before it the common messages that came first.

Modules: ``messages`` (the handler, rows in batches, change-level errors), ``contacts``
(contacts, conversations, windows), ``content`` (stored form, errors, media), ``notices``
(edit, revoke, system), ``preferences``; ``batch`` holds what they share.
"""

from __future__ import annotations

from messaging.webhooks.inbound.content import stored_form
from messaging.webhooks.inbound.messages import handle_messages
from messaging.webhooks.inbound.preferences import handle_user_preferences

__all__ = ["handle_messages", "handle_user_preferences", "stored_form"]
