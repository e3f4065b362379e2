"""Inbound media that could not be captured is an alert, not a silent gap (issue 12 §1).

Meta keeps an inbound media id for 7 days (cloud-api.md §3): a file we did not store by
then is lost from the record. When a download ends without the file (``failed`` after its
retries, or ``rejected`` for breaking WhatsApp's type or size limits), ``media_not_captured``
— called by ``messaging.webhooks.media`` in the transaction that marks the row — publishes
one ``media.missing`` event per message that carries the file (the inbox and integrators
see it live) and logs one warning naming ids only. The flag on the message is its media
row's status (``message_media_missing``); operators read ``missing_media_counts``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import Count, Q

from bsp import events
from messaging.models import MediaObject, Message

logger = logging.getLogger(__name__)

# The stream's type (to be listed in bsp.events.types.ALL: requests-capture.md).
MEDIA_MISSING = "media.missing"
MISSING_STATUSES = (MediaObject.Status.FAILED, MediaObject.Status.REJECTED)


def media_not_captured(*, media_pk: int, agency_id: int, status: str, reason: str) -> int:
    """Publish the alert for one media row that ended without its file; how many messages
    it names. Runs inside the transaction that set the row's final status."""
    rows = list(
        Message.objects.filter(media_id=media_pk).values_list("pk", "conversation_id", "wamid")
    )
    kind = MediaObject.objects.filter(pk=media_pk).values_list("kind", flat=True).first() or ""
    payload: dict[str, Any] = {"status": status, "kind": kind, "reason": reason}
    events.publish_many(
        agency_id,
        [
            events.Event(
                MEDIA_MISSING,
                {"media": media_pk, "message": pk, "conversation": conversation_id},
                {**payload, "wamid": wamid},
            )
            for pk, conversation_id, wamid in rows
        ],
    )
    # Ids and the status only: the reason is ours, but stays out of logs all the same.
    logger.warning(
        "inbound media not captured",
        extra={
            "media_id": media_pk,
            "agency_id": agency_id,
            "status": status,
            "messages": len(rows),
        },
    )
    return len(rows)


def message_media_missing(message: Message) -> bool:
    """The flag on a message: it carried a file we could not keep."""
    media = message.media
    return media is not None and media.status in MISSING_STATUSES


def missing_media_counts() -> dict[int, dict[str, int]]:
    """Per agency (in the current scope: one agency, or all of them in the system scope),
    the media files not captured, and those still waiting for their download."""
    rows = MediaObject.objects.values("agency_id").annotate(
        missing=Count("pk", filter=Q(status__in=MISSING_STATUSES)),
        pending=Count("pk", filter=Q(status=MediaObject.Status.PENDING)),
    )
    return {
        row["agency_id"]: {"missing": row["missing"], "pending": row["pending"]}
        for row in rows
        if row["missing"] or row["pending"]
    }
