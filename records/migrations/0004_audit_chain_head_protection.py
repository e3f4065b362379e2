"""The chain head can only move the way ``record_event`` moves it.

The head is what reveals events deleted from the end of a chain, so whoever can rewrite it
can hide such a deletion. A trigger (for every role, like the events' own) refuses:

- ``DELETE`` of a head;
- an ``UPDATE`` that does not advance the head by exactly one, onto the event that was
  just appended to the same chain (same sequence, same hash, linked to the old head);
- an ``INSERT`` that does not point at the chain's newest event (or at the genesis hash
  for a chain without events): a missing head can be recreated, never forged.

The app role also loses ``DELETE``/``TRUNCATE`` on the table (``tenants.apps``, after
every migrate). Only the schema owner can get around this, by disabling the trigger.
"""

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
    -- A concurrent writer that created the head first wins (ON CONFLICT DO NOTHING runs
    -- after this trigger, so skip here rather than judge a head computed before its events).
    IF EXISTS (SELECT 1 FROM records_auditchainhead WHERE chain_key = NEW.chain_key) THEN
        RETURN NULL;
    END IF;
    IF NEW.agency_id IS NULL THEN
        SELECT sequence, hash INTO newest_sequence, newest_hash FROM records_auditevent
            WHERE agency_id IS NULL ORDER BY sequence DESC LIMIT 1;
    ELSE
        SELECT sequence, hash INTO newest_sequence, newest_hash FROM records_auditevent
            WHERE agency_id = NEW.agency_id ORDER BY sequence DESC LIMIT 1;
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

CREATE TRIGGER audit_chain_head_guard
    BEFORE INSERT OR UPDATE OR DELETE ON records_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION audit_chain_head_guard();
"""

REVERSE_SQL = """
DROP TRIGGER IF EXISTS audit_chain_head_guard ON records_auditchainhead;
DROP FUNCTION IF EXISTS audit_chain_head_guard();
"""


def _postgres_only(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("records", "0003_audit_chain_head")]

    operations = [
        migrations.RunPython(_postgres_only(GUARD_SQL), _postgres_only(REVERSE_SQL)),
    ]
