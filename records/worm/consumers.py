"""The WORM archive's consumer of the event stream (registered by ``records.apps``, as the
campaigns' and the inbox's consumers are by theirs).

Runs inside the dispatcher's transaction (``bsp.events.dispatch``), at least once per
batch: everything it does is idempotent.

- ``legal_hold.placed`` / ``.released`` / ``.changed``: after the commit, a task mirrors the
  agency's holds onto its archive (``services.mirror_agency_holds``: S3 legal hold ON on
  every version of a held conversation, OFF when no open hold covers it any more). The
  store is not called from the dispatcher's transaction: the stream never waits on S3.
- ``file_plan.changed``, ``disposition.*``: after the commit, a task extends archived
  conversations' retention to the file plan's date where that is later.
- anything about an archived conversation (a message, a status, an edit, a note, a status
  change, an assignment, labels): the conversation is marked changed (``ArchiveRefresh``),
  so the beat archives a new version once it is past its active period again.
"""

from __future__ import annotations

import functools
import json
import logging
from typing import Any

from django.db import transaction

from bsp.events import types
from records.worm import services

logger = logging.getLogger(__name__)

HOLDS = frozenset({types.LEGAL_HOLD_PLACED, types.LEGAL_HOLD_RELEASED, types.LEGAL_HOLD_CHANGED})
RETENTION = frozenset(
    {types.FILE_PLAN_CHANGED, types.DISPOSITION_ELIGIBLE, types.DISPOSITION_APPROVED}
)
CHANGES = frozenset(
    {
        types.MESSAGE_RECEIVED,
        types.MESSAGE_QUEUED,
        types.MESSAGE_STATUS,
        types.MESSAGE_EDITED,
        types.MESSAGE_REVOKED,
        types.NOTE_ADDED,
        types.CONVERSATION_STATUS,
        types.CONVERSATION_ASSIGNED,
        types.CONVERSATION_LABELS,
        types.MEDIA_MISSING,
    }
)


def worm_consumer(agency_id: int, messages: list[str]) -> None:
    """Handle one batch of the agency's events (see the module docstring). Never raises:
    one failure is logged and the agency's stream goes on (the beat's runs catch up)."""
    holds = retention = False
    changed: set[int] = set()
    for text in messages:
        event = _parse(text)
        if event is None:
            continue
        kind = event.get("type")
        holds = holds or kind in HOLDS
        retention = retention or kind in RETENTION
        if kind in CHANGES:
            conversation = event["subject"].get("conversation")
            if isinstance(conversation, int):
                changed.add(conversation)
    if changed:
        try:
            with transaction.atomic():
                services.notice_changes(agency_id, changed)
        except Exception:
            logger.exception("records.worm consumer: changed conversations not marked")
    if holds:
        transaction.on_commit(functools.partial(_enqueue, "records.worm.mirror_holds", agency_id))
    if retention:
        transaction.on_commit(functools.partial(_enqueue, "records.worm.sync_retention", agency_id))


def _enqueue(task: str, agency_id: int) -> None:
    from records.worm import tasks

    try:
        getattr(tasks, task.rsplit(".", 1)[1]).apply_async(
            kwargs={"agency_id": agency_id}, queue=tasks.QUEUE
        )
    except Exception:  # a broker hiccup: the beat's hourly run mirrors and extends too
        logger.exception("records.worm consumer: %s not queued", task)


def _parse(text: str) -> dict[str, Any] | None:
    try:
        event = json.loads(text)
    except ValueError:
        return None
    if not isinstance(event, dict) or not isinstance(event.get("subject"), dict):
        return None
    return event
