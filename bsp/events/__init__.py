"""The platform's one event stream (a transactional outbox).

Every change users watch live or integrators subscribe to is published once, as a
``DomainEvent`` row written **in the transaction that makes the change**::

    from bsp import events
    from bsp.events import types

    with transaction.atomic():
        ...  # the change
        events.publish(
            agency_id=message.agency_id,
            type=types.MESSAGE_RECEIVED,
            subject={"message": message.pk, "conversation": message.conversation_id},
            payload={"wamid": message.wamid, "type": message.type},
        )

Batch code paths publish many events in one INSERT::

    events.publish_many(agency_id, [events.Event(types.MESSAGE_STATUS, subject, payload), ...])

Guarantees: a rollback publishes nothing (calling it outside ``transaction.atomic`` raises
``OutsideTransaction``); each agency's events carry a gap-free ``sequence`` in commit order
(publish as late as you can in the transaction: it serializes the agency's publishers
until commit); the dispatcher (``bsp.events.dispatch``) delivers them after commit, in
order, at least once, to the consumers (a Redis channel ``civic:events:<database>:agency:<id>``);
without Redis, readers poll ``bsp.events.selectors.events_after``. Subject and payload are
JSON (ids, not objects; datetimes become ISO strings).

This package sits just above the tenancy layer: it imports nothing of the domain apps.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from bsp.events.types import ALL as TYPES

__all__ = ["TYPES", "Event", "OutsideTransaction", "publish", "publish_many"]


class Event(NamedTuple):
    """One event to publish: a type of ``bsp.events.types``, the ids it is about, what
    changed (JSON-serializable; datetimes become ISO strings)."""

    type: str
    subject: dict[str, Any]
    payload: dict[str, Any] = {}


class OutsideTransaction(RuntimeError):
    """publish() needs the transaction that makes the change: outside one, an event could
    be published for a change that is then lost, or the reverse."""


def publish(
    *, agency_id: int, type: str, subject: dict[str, Any], payload: dict[str, Any] | None = None
) -> None:
    """Publish one event (see the module docstring)."""
    from bsp.events.services import publish_many

    publish_many(agency_id, [Event(type, subject, payload or {})])


def publish_many(agency_id: int, events: Any) -> int:
    """Publish ``events`` (``Event`` or ``(type, subject, payload)`` tuples) in one INSERT."""
    from bsp.events.services import publish_many as _publish_many

    return _publish_many(agency_id, events)
