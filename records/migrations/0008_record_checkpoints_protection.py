"""Leaves and checkpoints: agency isolation, and append-only at the database.

The same guard as the audit events' (0002): UPDATE and DELETE are refused for every role;
only the schema owner can get around it, by disabling the trigger. Tampering that does so
is what the signed checkpoints (and their copies in the archive store) reveal.
"""

from django.db import migrations

from tenants.rls import EnableRowLevelSecurity

TABLES = ("records_recordleaf", "records_recordcheckpoint")

APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION records_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
""" + "".join(
    f"""
CREATE TRIGGER {table}_append_only
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION records_refuse_change();
"""
    for table in TABLES
)

REVERSE_SQL = (
    "".join(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};\n" for table in TABLES)
    + "DROP FUNCTION IF EXISTS records_refuse_change();\n"
)


def _postgres_only(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("records", "0007_record_checkpoints")]

    operations = [
        EnableRowLevelSecurity("recordleaf"),
        EnableRowLevelSecurity("recordcheckpoint"),
        migrations.RunPython(_postgres_only(APPEND_ONLY_SQL), _postgres_only(REVERSE_SQL)),
    ]
