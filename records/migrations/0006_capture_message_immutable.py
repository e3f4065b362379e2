"""A stored message's content is immutable (issue 12 §1; ISO 15489 integrity, DoD 5015.2 "no
modification of filed record content").

A trigger on ``messaging_message`` refuses, for every role, an UPDATE that changes what was
sent or received and between whom: the content and its type, the direction, the agency,
conversation, number and contact, the sender type, the template, the quoted message, Meta's
context and referral, and the times of transmission (``received_at``, ``created_at``).
Write-once, set later by the send path or the webhooks: ``wamid`` and ``media_id`` (NULL →
a value, never changed or cleared afterwards) and ``revoked_at`` (a citizen's deletion is a
fact that stays). ``content_history`` (the citizen's edits, recorded beside the original)
only grows: every recorded version stays in it. Status columns (status, the status times,
errors, pricing, attempts) move freely: they are the message's transitions, not its content.

As for the audit table (0002), only the schema owner can get around it, by disabling the
trigger explicitly. SQLite (the demo) gets the same rule on the content columns.
"""

from django.db import migrations

# Columns that never change once the row exists.
FROZEN = [
    "content",
    "type",
    "direction",
    "agency_id",
    "conversation_id",
    "phone_number_id",
    "contact_id",
    "sender_type",
    "template_id",
    "reply_to_wamid",
    "context",
    "referral",
    "received_at",
    "created_at",
]
# Columns that may be set once (NULL → value) and then never change.
WRITE_ONCE = ["wamid", "media_id", "revoked_at"]


def _postgres_sql() -> str:
    frozen = "\n".join(
        f"    IF NEW.{c} IS DISTINCT FROM OLD.{c} THEN changed := '{c}'; END IF;" for c in FROZEN
    )
    once = "\n".join(
        f"    IF OLD.{c} IS NOT NULL AND NEW.{c} IS DISTINCT FROM OLD.{c} THEN"
        f" changed := '{c}'; END IF;"
        for c in WRITE_ONCE
    )
    return f"""
CREATE OR REPLACE FUNCTION message_content_guard() RETURNS trigger AS $$
DECLARE
    changed text := NULL;
BEGIN
{frozen}
{once}
    IF NOT (NEW.content_history @> OLD.content_history) THEN
        changed := 'content_history';
    END IF;
    IF changed IS NOT NULL THEN
        RAISE EXCEPTION 'messaging_message: a stored message''s % cannot be changed '
            '(edits and deletions are recorded beside the original)', changed
            USING ERRCODE = 'insufficient_privilege', COLUMN = changed;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER message_content_immutable
    BEFORE UPDATE ON messaging_message
    FOR EACH ROW EXECUTE FUNCTION message_content_guard();
"""


POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS message_content_immutable ON messaging_message;
DROP FUNCTION IF EXISTS message_content_guard();
"""


def _sqlite_sql() -> str:
    frozen = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FROZEN)
    once = " OR ".join(f"(OLD.{c} IS NOT NULL AND NEW.{c} IS NOT OLD.{c})" for c in WRITE_ONCE)
    return f"""
CREATE TRIGGER message_content_immutable BEFORE UPDATE ON messaging_message
FOR EACH ROW WHEN {frozen} OR {once}
BEGIN
    SELECT RAISE(ABORT, 'messaging_message: a stored message''s content cannot be changed');
END;
"""


def _forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(_postgres_sql(), params=None)
    elif vendor == "sqlite":
        schema_editor.execute(_sqlite_sql(), params=None)


def _reverse(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_REVERSE, params=None)
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS message_content_immutable", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0005_audit_chain_head_race"),
        ("messaging", "0011_reach_and_route"),
    ]

    operations = [migrations.RunPython(_forward, _reverse)]
