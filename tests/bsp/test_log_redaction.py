"""Database errors quote the data they refused; no log line may carry that text."""

from __future__ import annotations

import json
import logging
import traceback

import pytest
from django.db import connection, transaction
from pythonjsonlogger.json import JsonFormatter

pytestmark = pytest.mark.django_db

CANARY = "CANARY-words-of-a-citizen-91c2"


def _database_error() -> Exception:
    """A real one: PostgreSQL refuses a NUL in JSON and quotes the text around it."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT %s::jsonb", [json.dumps({"body": CANARY + "\u0000"})])
    except Exception as exc:
        assert CANARY in str(exc)  # what would leak
        return exc
    raise AssertionError("PostgreSQL accepted a NUL")


def _formatted(record: logging.LogRecord) -> str:
    return logging.Formatter().format(record) + JsonFormatter().format(record)


def test_a_logged_database_traceback_keeps_its_frames_but_not_the_data(caplog):
    exc = _database_error()
    try:
        raise RuntimeError("while storing a message") from exc
    except RuntimeError:
        logging.getLogger("tests.redaction").exception("could not store")
    [record] = [r for r in caplog.records if r.name == "tests.redaction"]
    text = _formatted(record)
    assert CANARY not in text
    assert "Traceback" in text and "_database_error" in text  # still a traceback
    assert "UntranslatableCharacter" in text  # and says what went wrong
    assert "RuntimeError: while storing a message" in text  # other errors keep their text


def test_celerys_task_failure_line_is_redacted_too(caplog):
    """Celery logs ``Task … raised unexpected: %(exc)s`` with the error's repr and its
    traceback as strings, and the same dict again as ``extra={"data": …}``."""
    exc = _database_error()
    context = {
        "name": "messaging.drain_webhook_events",
        "exc": repr(exc),
        "traceback": "".join(traceback.format_exception(exc)),
    }
    logging.getLogger("celery.app.trace").error(
        "Task %(name)s raised unexpected: %(exc)s",
        context,
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"data": context},
    )
    [record] = [r for r in caplog.records if r.name == "celery.app.trace"]
    text = _formatted(record)
    assert "messaging.drain_webhook_events" in text
    assert CANARY not in text
    assert CANARY not in json.dumps(record.data, default=str)


def test_other_log_lines_are_untouched(caplog):
    # Another test may leave the root logger above WARNING (an in-process Celery worker).
    caplog.set_level(logging.INFO, logger="tests.redaction")
    logging.getLogger("tests.redaction").warning("status %s for %s", "read", "wamid.1")
    assert caplog.records[-1].getMessage() == "status read for wamid.1"
