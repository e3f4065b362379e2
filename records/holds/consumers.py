"""The holds' consumer of the event stream: a message that arrives (or is queued, or is an
edit/revoke notice) while an open hold's selection names it is held on arrival; a label
added to a conversation brings its messages under the open holds on that label.

Registered like the other consumers (``bsp.events.dispatch.register_consumer``, from the
records app's ``ready``). Runs inside the dispatcher's transaction, in the agency's scope;
delivery is at least once, and ``hold_arrivals`` is idempotent (a message already listed
under a hold is not added again). Costs one query per batch when the agency has no open
hold, whatever the batch holds.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db import transaction

from bsp.events import types
from records.holds.models import LegalHold
from records.holds.services import hold_arrivals

logger = logging.getLogger(__name__)

ARRIVALS = frozenset(
    {types.MESSAGE_RECEIVED, types.MESSAGE_QUEUED, types.MESSAGE_EDITED, types.MESSAGE_REVOKED}
)


def holds_consumer(agency_id: int, messages: list[str]) -> None:
    ids: set[int] = set()
    labelled: set[int] = set()
    for text in messages:
        event = json.loads(text)
        subject = event.get("subject") or {}
        if event["type"] in ARRIVALS:
            for key in ("message", "notice"):
                if isinstance(subject.get(key), int):
                    ids.add(subject[key])
        elif _labels_added(event) and isinstance(subject.get("conversation"), int):
            labelled.add(subject["conversation"])
    if not ids and not labelled:
        return
    if not LegalHold.objects.filter(agency_id=agency_id, status=LegalHold.Status.OPEN).exists():
        return
    try:
        with transaction.atomic():
            hold_arrivals(agency_id, ids, labelled)
    except Exception:
        # A hold must not miss a record: the error goes up, the dispatcher rolls back and
        # delivers the batch again (unlike the inbox's routing, which may skip an event).
        logger.exception("holds consumer could not hold %d arrivals", len(ids) + len(labelled))
        raise


def _labels_added(event: dict[str, Any]) -> bool:
    return event["type"] == types.CONVERSATION_LABELS and bool(
        (event.get("payload") or {}).get("added")
    )
