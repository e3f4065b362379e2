"""WABA-level webhooks: template status/quality/category, phone number quality and limits,
account updates (restrictions, bans). Each updates its model and writes an audit event when
something changed. Contract: handlers run in the agency scope, in a transaction, idempotent."""

from __future__ import annotations

from messaging.webhooks.processing import Change


def handle_template_status(change: Change) -> None:
    raise NotImplementedError  # being written (issue 5)


def handle_template_quality(change: Change) -> None:
    raise NotImplementedError  # being written (issue 5)


def handle_template_category(change: Change) -> None:
    raise NotImplementedError  # being written (issue 5)


def handle_phone_number_quality(change: Change) -> None:
    raise NotImplementedError  # being written (issue 5)


def handle_account_update(change: Change) -> None:
    raise NotImplementedError  # being written (issue 5)
