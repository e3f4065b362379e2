"""The WORM archive of conversations (records.worm): its policy, object and refresh tables,
agency isolation, and the archived objects' guard at the database.

``records_archivedobject`` is append-only in what a version *is* (its key, version id,
digest, size, mode, times): an UPDATE may only move its lock the way the store's moves
(``retain_until`` later, ``legal_hold`` on or off) and set ``destroyed_at`` once; DELETE is
refused (a destroyed version keeps its row as the residual of its destruction). Only the
schema owner can get around it, by disabling the trigger; ``verify_archive`` still compares
every version in the store with its row.
"""

import django.db.models.deletion
from django.db import migrations, models

from tenants.rls import EnableRowLevelSecurity

GUARD_SQL = """
CREATE OR REPLACE FUNCTION records_worm_object_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'records_archivedobject is append-only: DELETE refused '
            '(a destroyed version keeps its row)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.agency_id <> OLD.agency_id OR NEW.conversation_id <> OLD.conversation_id
        OR NEW.kind <> OLD.kind OR NEW.media_id IS DISTINCT FROM OLD.media_id
        OR NEW.store <> OLD.store OR NEW.key <> OLD.key OR NEW.version_id <> OLD.version_id
        OR NEW.sha256 <> OLD.sha256 OR NEW.size <> OLD.size OR NEW.mode <> OLD.mode
        OR NEW.archived_at <> OLD.archived_at THEN
        RAISE EXCEPTION 'an archived object version never changes (only its lock moves)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.retain_until < OLD.retain_until THEN
        RAISE EXCEPTION 'an archived object''s retention is never shortened'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.destroyed_at IS NOT NULL AND NEW.destroyed_at IS DISTINCT FROM OLD.destroyed_at THEN
        RAISE EXCEPTION 'a destroyed archive object stays destroyed'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER records_archivedobject_guard
    BEFORE UPDATE OR DELETE ON records_archivedobject
    FOR EACH ROW EXECUTE FUNCTION records_worm_object_guard();
"""

REVERSE_SQL = """
DROP TRIGGER IF EXISTS records_archivedobject_guard ON records_archivedobject;
DROP FUNCTION IF EXISTS records_worm_object_guard();
"""


def _postgres_only(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0012_holds_retention"),
        ("tenants", "0006_agency_marketing_messages_api"),
    ]

    operations = [
        migrations.CreateModel(
            name="ArchivedObject",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("conversation_id", models.BigIntegerField()),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("conversation", "Conversation (canonical JSON)"),
                            ("media", "Media file"),
                        ],
                        max_length=16,
                    ),
                ),
                ("media_id", models.BigIntegerField(blank=True, null=True)),
                ("store", models.CharField(max_length=255)),
                ("key", models.CharField(max_length=512)),
                ("version_id", models.CharField(max_length=255)),
                ("sha256", models.CharField(max_length=64)),
                ("size", models.BigIntegerField()),
                (
                    "mode",
                    models.CharField(
                        choices=[
                            (
                                "compliance",
                                "Compliance (nobody can delete or shorten before retain-until)",
                            ),
                            ("governance", "Governance (privileged operators could, in the store)"),
                        ],
                        max_length=16,
                    ),
                ),
                ("retain_until", models.DateTimeField()),
                ("legal_hold", models.BooleanField(default=False)),
                ("archived_at", models.DateTimeField()),
                ("destroyed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenants.agency",
                    ),
                ),
            ],
            options={
                "ordering": ["conversation_id", "kind", "key", "archived_at", "id"],
                "indexes": [
                    models.Index(
                        fields=["agency", "conversation_id"], name="worm_object_conversation"
                    ),
                    models.Index(
                        condition=models.Q(("destroyed_at__isnull", True)),
                        fields=["agency", "legal_hold"],
                        name="worm_object_live",
                    ),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("store", "key", "version_id"), name="worm_object_version_once"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="ArchivePolicy",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "mode",
                    models.CharField(
                        choices=[
                            (
                                "compliance",
                                "Compliance (nobody can delete or shorten before retain-until)",
                            ),
                            ("governance", "Governance (privileged operators could, in the store)"),
                        ],
                        max_length=16,
                    ),
                ),
                ("active_days", models.PositiveIntegerField()),
                ("minimum_retention_days", models.PositiveIntegerField()),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenants.agency",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "archive policies",
                "constraints": [
                    models.UniqueConstraint(fields=("agency",), name="worm_policy_one_per_agency"),
                    models.CheckConstraint(
                        condition=models.Q(("mode__in", ["compliance", "governance"])),
                        name="worm_policy_mode",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("minimum_retention_days__gte", 1)),
                        name="worm_policy_retention",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="ArchiveRefresh",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("conversation_id", models.BigIntegerField()),
                ("noticed_at", models.DateTimeField()),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenants.agency",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("conversation_id",), name="worm_refresh_once")
                ],
            },
        ),
        EnableRowLevelSecurity("archivepolicy"),
        EnableRowLevelSecurity("archivedobject"),
        EnableRowLevelSecurity("archiverefresh"),
        migrations.RunPython(_postgres_only(GUARD_SQL), _postgres_only(REVERSE_SQL)),
    ]
