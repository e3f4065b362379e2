"""A head created concurrently is recognised whatever the moment its writer commits.

The INSERT branch of ``audit_chain_head_guard`` (0004) first asked whether a head exists
and then read the chain's newest event. Under READ COMMITTED every statement of the
function takes a new snapshot, so a writer that committed a chain's first head and event
*between* those two statements made a concurrent writer's genesis head look forged ("a new
head must point at the newest event") instead of letting it lose the race quietly (seen
once in CI in ``test_concurrent_writers_do_not_fork_the_chain``).

The function now reads the newest event first and looks for a head second. Nothing else
in the guard changes.
"""

import importlib

from django.db import migrations

GENESIS_HASH = "0" * 64

GUARD_SQL = f"""
CREATE OR REPLACE FUNCTION audit_chain_head_guard() RETURNS trigger AS $$
DECLARE
    newest_sequence bigint;
    newest_hash varchar(64);
    appended record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'records_auditchainhead: a chain head cannot be deleted'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.chain_key <> COALESCE(NEW.agency_id, 0) THEN
        RAISE EXCEPTION 'records_auditchainhead: chain_key must be the agency id (0: platform)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF NEW.chain_key <> OLD.chain_key OR NEW.sequence <> OLD.sequence + 1 THEN
            RAISE EXCEPTION 'records_auditchainhead: a head only advances by one event'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        -- Two branches so that each uses its unique index on (agency, sequence).
        IF NEW.agency_id IS NULL THEN
            SELECT hash, prev_hash INTO appended FROM records_auditevent
                WHERE agency_id IS NULL AND sequence = NEW.sequence;
        ELSE
            SELECT hash, prev_hash INTO appended FROM records_auditevent
                WHERE agency_id = NEW.agency_id AND sequence = NEW.sequence;
        END IF;
        IF appended IS NULL OR appended.hash <> NEW.hash OR appended.prev_hash <> OLD.hash THEN
            RAISE EXCEPTION 'records_auditchainhead: the head must point at the appended event'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    -- INSERT: a new chain starts at the genesis hash; a lost head is recreated exactly.
    -- The newest event is read *before* looking for a head: each statement here sees a
    -- new snapshot, and a head commits with the events it points at, so a head missing
    -- from the later snapshot was not there when the earlier one was taken either.
    IF NEW.agency_id IS NULL THEN
        SELECT sequence, hash INTO newest_sequence, newest_hash FROM records_auditevent
            WHERE agency_id IS NULL ORDER BY sequence DESC LIMIT 1;
    ELSE
        SELECT sequence, hash INTO newest_sequence, newest_hash FROM records_auditevent
            WHERE agency_id = NEW.agency_id ORDER BY sequence DESC LIMIT 1;
    END IF;
    -- A concurrent writer that created the head first wins (ON CONFLICT DO NOTHING runs
    -- after this trigger, so skip here rather than judge a head computed before its events).
    IF EXISTS (SELECT 1 FROM records_auditchainhead WHERE chain_key = NEW.chain_key) THEN
        RETURN NULL;
    END IF;
    IF NOT (
        (newest_sequence IS NULL AND NEW.sequence = 0 AND NEW.hash = '{GENESIS_HASH}')
        OR (NEW.sequence = newest_sequence AND NEW.hash = newest_hash)
    ) THEN
        RAISE EXCEPTION 'records_auditchainhead: a new head must point at the newest event'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def _previous_guard_sql() -> str:
    previous = importlib.import_module("records.migrations.0004_audit_chain_head_protection")
    return previous.GUARD_SQL.split("CREATE TRIGGER")[0]


def _postgres_only(sql_source):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql_source(), params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("records", "0004_audit_chain_head_protection")]

    operations = [
        migrations.RunPython(_postgres_only(lambda: GUARD_SQL), _postgres_only(_previous_guard_sql)),
    ]
