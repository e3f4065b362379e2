"""``created_at`` leaves the frozen columns of ``message_content_immutable`` (0006).

``created_at`` is our own clock (when the row was stored or queued), not a transmission
time: Meta's timestamp of an inbound message is ``received_at`` (still frozen) and the
times of an outbound one are its status columns, written once by the status webhooks. Test
set-ups and the stuck-message sweeper's tests date rows back through it. The signed
checkpoints (0007) still cover the row as it was when it became a leaf.
"""

import importlib

from django.db import migrations

_capture = importlib.import_module("records.migrations.0006_capture_message_immutable")
FROZEN = [column for column in _capture.FROZEN if column != "created_at"]


def _function_sql(frozen: list[str]) -> str:
    # Only the function is replaced; the trigger of 0006 calls it by name.
    saved = _capture.FROZEN
    _capture.FROZEN = frozen
    try:
        sql = _capture._postgres_sql()
    finally:
        _capture.FROZEN = saved
    return sql.split("CREATE TRIGGER")[0]


def _sqlite_sql(frozen: list[str]) -> str:
    saved = _capture.FROZEN
    _capture.FROZEN = frozen
    try:
        return _capture._sqlite_sql()
    finally:
        _capture.FROZEN = saved


def _apply(frozen: list[str]):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(_function_sql(frozen), params=None)
        elif vendor == "sqlite":
            schema_editor.execute("DROP TRIGGER IF EXISTS message_content_immutable", params=None)
            schema_editor.execute(_sqlite_sql(frozen), params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("records", "0010_capture_dlp_rules")]

    operations = [migrations.RunPython(_apply(FROZEN), _apply(_capture.FROZEN))]
