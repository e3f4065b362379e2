"""Full-text search over messages' text (PostgreSQL only; the SQLite demo matches
substrings). Superseded by 0004 (a stored column)."""

from django.db import migrations

INDEX = "message_text_search"
EXPRESSION = (
    "to_tsvector('simple'::regconfig, "
    "coalesce(content #>> '{text,body}', '') || ' ' || "
    "coalesce(content #>> '{image,caption}', '') || ' ' || "
    "coalesce(content #>> '{video,caption}', '') || ' ' || "
    "coalesce(content #>> '{document,caption}', '') || ' ' || "
    "coalesce(content #>> '{document,filename}', ''))"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON messaging_message USING gin ({EXPRESSION})"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0002_row_level_security"),
        ("messaging", "0008_conversation_workflow"),
    ]

    operations = [migrations.RunPython(create, drop)]
