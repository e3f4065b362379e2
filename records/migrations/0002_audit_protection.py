"""The audit table: agency isolation, and append-only at the database.

The trigger refuses UPDATE and DELETE for every role (the app role also lacks the
privileges, see ``tenants.rls.grant_app_role_privileges``). Only the schema owner can
get around it, by disabling the trigger explicitly, which is itself visible in the logs.
"""

from django.db import migrations

from tenants.rls import EnableRowLevelSecurity

APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'records_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON records_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change();
"""

REVERSE_SQL = """
DROP TRIGGER IF EXISTS audit_event_append_only ON records_auditevent;
DROP FUNCTION IF EXISTS audit_event_refuse_change();
"""


def _postgres_only(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]

    operations = [
        EnableRowLevelSecurity("auditevent"),
        migrations.RunPython(_postgres_only(APPEND_ONLY_SQL), _postgres_only(REVERSE_SQL)),
    ]
