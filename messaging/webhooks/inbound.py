"""Inbound messages (``value.messages[]`` and change-level ``errors``) → normalized rows.

Contract (used by ``processing``): ``handle_messages(change)`` and
``handle_user_preferences(change)`` run inside the change's agency scope and a transaction;
they are idempotent (a redelivered change creates nothing new)."""

from __future__ import annotations

from messaging.webhooks.processing import Change


def handle_messages(change: Change) -> None:
    raise NotImplementedError  # being written (issue 5)


def handle_user_preferences(change: Change) -> None:
    raise NotImplementedError  # being written (issue 5)
