"""Live updates for open inbox pages: Server-Sent Events from an async view (``/inbox/stream/``).

``views.stream`` checks who asks (a member of the session's current agency with
``view_inbox``) and returns a ``text/event-stream`` fed by ``stream.event_stream``: first
the events the client missed (``Last-Event-ID`` or ``?after=``, read from the event table),
then the live ones from a ``sources`` source — the agency's Redis channel
(``civic:events:<database>:agency:<id>``) when ``REDIS_URL`` is set, else the table polled every
``LIVE_POLL_SECONDS`` (the embedded demo). ``frontend/static/inbox/live.js`` turns each
event into a ``civic:live`` DOM event for the page's scripts. README, "Live updates".
"""
