"""Status webhooks (``value.statuses[]``) → the outbound message's status, forward only.

Contract: ``handle_statuses(change)`` (agency scope, in a transaction, idempotent);
``apply_parked_for(phone_number_pk, wamids)`` applies statuses that arrived before the
wamid was recorded (called when a send records wamids); ``apply_parked()`` is the periodic
safety net (system scope) and returns how many it applied."""

from __future__ import annotations

from collections.abc import Iterable

from messaging.webhooks.processing import Change


def handle_statuses(change: Change) -> None:
    raise NotImplementedError  # being written (issue 5)


def apply_parked_for(phone_number_pk: int, wamids: Iterable[str]) -> int:
    raise NotImplementedError  # being written (issue 5)


def apply_parked() -> int:
    raise NotImplementedError  # being written (issue 5)
