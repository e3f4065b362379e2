"""Database errors never carry citizen content into the logs.

PostgreSQL's error text quotes the data it choked on (``DETAIL: Failing row contains (…)``,
``CONTEXT: JSON data, line 1: {"text": {"body": "…``), and psycopg and Django put that text
in the exception's message: a traceback of a failed insert prints the citizen's message.
Every log record is made with a redacted traceback instead: the frames, and for each
database error only its class, SQLSTATE and the table/column/constraint it names.

Installed as the log record factory (``install()``, from ``bsp.celery`` which every
process imports), so it holds for every logger and handler: Django's, gunicorn's,
Celery's hijacked root logger."""

from __future__ import annotations

import logging
import traceback
from typing import Any

_installed = False
# Attributes every LogRecord has; anything else came in through ``extra=`` (or Celery's
# ``data``) and is checked too.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def _is_database_error(exc: BaseException) -> bool:
    from django.db import Error as DjangoDatabaseError

    if isinstance(exc, DjangoDatabaseError):
        return True
    try:
        import psycopg
    except ImportError:  # the SQLite demo without psycopg
        return False
    return isinstance(exc, psycopg.Error)


def _chain(exc: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and all(exc is not other for other in seen):
        seen.append(exc)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return seen


def database_error_in(exc: BaseException | None) -> BaseException | None:
    return next((link for link in _chain(exc) if _is_database_error(link)), None)


def describe_database_error(exc: BaseException) -> str:
    """Class, SQLSTATE and what the error names, never the message: it may quote data."""
    parts = [type(exc).__name__]
    driver = next((link for link in _chain(exc) if hasattr(link, "diag")), None)
    if driver is not None:
        if type(driver).__name__ != parts[0]:
            parts.append(type(driver).__name__)
        diag = driver.diag
        sqlstate = getattr(driver, "sqlstate", None)
        if sqlstate:
            parts.append(f"SQLSTATE {sqlstate}")
        where = ".".join(name for name in (diag.table_name, diag.column_name) if name)
        if where:
            parts.append(f"on {where}")
        if diag.constraint_name:
            parts.append(f"constraint {diag.constraint_name}")
    described = f"{parts[0]} ({', '.join(parts[1:])})" if len(parts) > 1 else parts[0]
    sqlstate = getattr(driver, "sqlstate", None) or ""
    if sqlstate[:2] in _SAYS_NO_DATA:
        # The world, not a row (connection lost, deadlock, disk full): the first line says
        # which, and quotes nothing.
        described += f": {str(exc).splitlines()[0][:200]}" if str(exc) else ""
    return described


# SQLSTATE classes whose first message line is about the server, never about data: ""
# (no SQLSTATE: the connection failed), connection, transaction rollback (deadlocks,
# serialization), insufficient resources, object not in prerequisite state (locks),
# operator intervention, system error.
_SAYS_NO_DATA = frozenset({"", "08", "40", "53", "55", "57", "58"})


def describe_safely(exc: BaseException) -> str:
    """One line for logs and operators: a database error as above, anything else as
    ``Class: message`` (shortened)."""
    if database_error_in(exc) is not None:
        return describe_database_error(database_error_in(exc) or exc) + " [details withheld]"
    return f"{type(exc).__name__}: {str(exc)[:300]}"


def redacted_traceback(exc: BaseException) -> str:
    """The traceback with every database error's message replaced by its description."""
    formatted = traceback.TracebackException.from_exception(exc)
    seen: set[int] = set()
    stack: list[traceback.TracebackException | None] = [formatted]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        exc_type = getattr(node, "exc_type", None)
        if exc_type is not None and _is_database_error_type(exc_type):
            # `_str` is what the last line prints after the class name (CPython 3.11+).
            node._str = "[details withheld: they may quote row data]"  # type: ignore[attr-defined]
        stack.extend([node.__cause__, node.__context__])
    return "".join(formatted.format()).rstrip("\n")


def _is_database_error_type(exc_type: type) -> bool:
    from django.db import Error as DjangoDatabaseError

    if issubclass(exc_type, DjangoDatabaseError):
        return True
    try:
        import psycopg
    except ImportError:
        return False
    return issubclass(exc_type, psycopg.Error)


def redact(record: logging.LogRecord) -> logging.LogRecord:
    exc = record.exc_info[1] if record.exc_info else None
    if isinstance(record.msg, BaseException) and database_error_in(record.msg) is not None:
        exc = exc or record.msg
        record.msg = describe_safely(record.msg)
    if exc is None or database_error_in(exc) is None:
        return record
    safe = describe_safely(exc)
    # Text about the error that someone formatted already (Celery's "Task … raised
    # unexpected: %(exc)s" with a repr and a traceback string).
    names = {type(link).__name__ for link in _chain(exc)}
    if isinstance(record.args, dict):
        # In place: Celery passes the same dict again as ``extra={"data": …}``, which is
        # attached after this factory has run.
        for key, value in record.args.items():
            record.args[key] = _scrub(value, names, safe)
    else:
        record.args = _scrub(record.args, names, safe)
    for key, value in list(record.__dict__.items()):
        if key not in _STANDARD:
            record.__dict__[key] = _scrub(value, names, safe)
    if record.exc_info:
        record.exc_text = redacted_traceback(exc)
        record.exc_info = None
    return record


def _scrub(value: Any, names: set[str], safe: str) -> Any:
    if isinstance(value, BaseException):
        return describe_safely(value)
    if isinstance(value, str):
        return safe if any(name in value for name in names) else value
    if isinstance(value, tuple):
        return tuple(_scrub(item, names, safe) for item in value)
    if isinstance(value, list):
        return [_scrub(item, names, safe) for item in value]
    if isinstance(value, dict):
        return {key: _scrub(item, names, safe) for key, item in value.items()}
    return value


def install() -> None:
    """Make every log record of this process through ``redact`` (idempotent)."""
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            return redact(record)
        except Exception:  # redaction must never lose a log line; drop the details instead
            if record.exc_info:
                record.exc_text = f"{type(record.exc_info[1]).__name__} [details withheld]"
                record.exc_info = None
            return record

    logging.setLogRecordFactory(factory)
    _installed = True
