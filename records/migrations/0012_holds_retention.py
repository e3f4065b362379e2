"""Legal holds and retention (issue 12 §2, §3): the models, their agency isolation, and
the database's own guarantees.

* A held record cannot be deleted, whoever asks: a BEFORE DELETE trigger on
  ``messaging_message``, ``messaging_conversation``, ``messaging_mediaobject`` and
  ``inbox_note`` refuses a row that an open hold covers (a message listed in
  ``records_heldmessage`` under an open ``records_legalhold``; its conversation, the
  conversation's notes, the message's media file), naming the matter. The services check
  first and raise ``records.holds.HeldRecordError``; the trigger is defence in depth.
* Deleting messages stays possible for the application role (disposition needs it): the
  content trigger of 0006/0011 is BEFORE UPDATE only, and the role keeps DELETE on the
  message table. Disposition deletes a conversation's messages before their media files,
  so no message row is ever UPDATEd (its ``media_id`` is write-once).
* Certificates of destruction and their destroyed-record rows are append-only (the
  ``records_refuse_change`` guard of 0008), and so is the list of what each hold held
  (``records_heldmessage``): a released hold keeps its history.
"""

import django.db.models.deletion
import django.db.models.functions.comparison
from django.conf import settings
from django.db import migrations, models

from tenants.rls import EnableRowLevelSecurity

HELD = """
SELECT l.matter_id FROM records_heldmessage h
JOIN records_legalhold l ON l.id = h.hold_id AND l.status = 'open'
"""

HOLD_GUARD_SQL = f"""
CREATE OR REPLACE FUNCTION records_refuse_held_delete() RETURNS trigger AS $$
DECLARE
    matter text := NULL;
BEGIN
    IF TG_TABLE_NAME = 'messaging_message' THEN
        {HELD} WHERE h.message_id = OLD.id LIMIT 1 INTO matter;
    ELSIF TG_TABLE_NAME = 'messaging_conversation' THEN
        {HELD} WHERE h.conversation_id = OLD.id LIMIT 1 INTO matter;
    ELSIF TG_TABLE_NAME = 'inbox_note' THEN
        {HELD} WHERE h.conversation_id = OLD.conversation_id LIMIT 1 INTO matter;
    ELSIF TG_TABLE_NAME = 'messaging_mediaobject' THEN
        {HELD} JOIN messaging_message m ON m.id = h.message_id
        WHERE m.media_id = OLD.id LIMIT 1 INTO matter;
    END IF;
    IF matter IS NOT NULL THEN
        RAISE EXCEPTION '% id=% is under legal hold (matter %): it cannot be deleted',
            TG_TABLE_NAME, OLD.id, matter
            USING ERRCODE = 'restrict_violation', HINT = 'legal_hold';
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
"""
GUARDED = ("messaging_message", "messaging_conversation", "messaging_mediaobject", "inbox_note")
APPEND_ONLY = ("records_destructioncertificate", "records_destroyedrecord", "records_heldmessage")

FORWARD_SQL = (
    HOLD_GUARD_SQL
    + "".join(
        f"""
CREATE TRIGGER {table}_not_held
    BEFORE DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION records_refuse_held_delete();
"""
        for table in GUARDED
    )
    + "".join(
        f"""
CREATE TRIGGER {table}_append_only
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION records_refuse_change();
"""
        for table in APPEND_ONLY
    )
)
REVERSE_SQL = (
    "".join(f"DROP TRIGGER IF EXISTS {table}_not_held ON {table};\n" for table in GUARDED)
    + "".join(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};\n" for table in APPEND_ONLY)
    + "DROP FUNCTION IF EXISTS records_refuse_held_delete();\n"
)


def _postgres_only(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0011_capture_created_at_free"),
        ("inbox", "0004_message_search_vector"),
        ("messaging", "0011_reach_and_route"),
        ("tenants", "0006_agency_marketing_messages_api"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DispositionReport",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("computed_at", models.DateTimeField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting for review"),
                            ("approved", "Approved"),
                            ("rejected", "Rejected"),
                            ("executed", "Executed"),
                        ],
                        default="pending",
                        max_length=16,
                    ),
                ),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                ("decided_by_id", models.CharField(blank=True, max_length=64)),
                ("decided_by_label", models.CharField(blank=True, max_length=200)),
                ("decision_reason", models.TextField(blank=True, max_length=2000)),
                ("executed_at", models.DateTimeField(blank=True, null=True)),
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
                "ordering": ["-computed_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="DestructionCertificate",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveIntegerField()),
                ("created_at", models.DateTimeField()),
                ("approved_at", models.DateTimeField()),
                ("approved_by_id", models.CharField(blank=True, max_length=64)),
                ("approved_by_label", models.CharField(max_length=200)),
                ("authorities", models.JSONField(default=list)),
                ("counts", models.JSONField(default=dict)),
                ("record_ids", models.JSONField(default=dict)),
                ("leaf_sha256", models.CharField(max_length=64)),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenants.agency",
                    ),
                ),
                (
                    "report",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="records.dispositionreport",
                    ),
                ),
            ],
            options={
                "ordering": ["-number"],
            },
        ),
        migrations.CreateModel(
            name="FilePlan",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("fiscal_year_start_month", models.PositiveSmallIntegerField(default=10)),
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
        ),
        migrations.CreateModel(
            name="LegalHold",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("matter_id", models.CharField(max_length=100)),
                ("reason", models.TextField(max_length=2000)),
                ("selection", models.JSONField(default=dict)),
                (
                    "status",
                    models.CharField(
                        choices=[("open", "Open"), ("released", "Released")],
                        default="open",
                        max_length=16,
                    ),
                ),
                ("placed_at", models.DateTimeField()),
                ("placed_by_label", models.CharField(blank=True, max_length=200)),
                ("placed_by_id", models.CharField(blank=True, max_length=64)),
                ("released_at", models.DateTimeField(blank=True, null=True)),
                ("released_by_label", models.CharField(blank=True, max_length=200)),
                ("released_by_id", models.CharField(blank=True, max_length=64)),
                ("release_reason", models.TextField(blank=True, max_length=2000)),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenants.agency",
                    ),
                ),
                (
                    "owner",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-placed_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="HeldMessage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("message_id", models.BigIntegerField()),
                ("conversation_id", models.BigIntegerField()),
                ("held_at", models.DateTimeField()),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenants.agency",
                    ),
                ),
                (
                    "hold",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="held",
                        to="records.legalhold",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="RecordCategory",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200)),
                ("code", models.CharField(blank=True, max_length=40)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("conversations", "Conversations (messages and their files)"),
                            ("notes", "Staff notes"),
                            ("audit_events", "Audit events"),
                            ("consent", "Consent records"),
                        ],
                        max_length=20,
                    ),
                ),
                ("description", models.TextField(blank=True, max_length=2000)),
                ("authority", models.CharField(max_length=200)),
                (
                    "cutoff",
                    models.CharField(
                        choices=[
                            ("calendar_year", "End of the calendar year"),
                            ("fiscal_year", "End of the fiscal year"),
                            ("conversation_resolved", "When the conversation is resolved"),
                        ],
                        max_length=32,
                    ),
                ),
                ("retain_years", models.PositiveSmallIntegerField(default=0)),
                ("retain_months", models.PositiveSmallIntegerField(default=0)),
                ("retain_days", models.PositiveSmallIntegerField(default=0)),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("destroy", "Destroy"),
                            ("transfer", "Transfer to the archives"),
                            ("review", "Review"),
                        ],
                        max_length=16,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenants.agency",
                    ),
                ),
                (
                    "phone_number",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenants.phonenumber",
                    ),
                ),
                (
                    "team",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="inbox.team",
                    ),
                ),
            ],
            options={
                "ordering": ["kind", "name", "id"],
            },
        ),
        migrations.CreateModel(
            name="DispositionItem",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "record_type",
                    models.CharField(
                        choices=[
                            ("conversation", "Conversation"),
                            ("note", "Note"),
                            ("audit_event", "Audit event"),
                            ("consent", "Consent record"),
                        ],
                        max_length=16,
                    ),
                ),
                ("record_id", models.BigIntegerField()),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("destroy", "Destroy"),
                            ("transfer", "Transfer to the archives"),
                            ("review", "Review"),
                        ],
                        max_length=16,
                    ),
                ),
                ("eligible_at", models.DateTimeField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("eligible", "Eligible"),
                            ("held", "Blocked by a legal hold"),
                            ("destroyed", "Destroyed"),
                            ("transferred", "Transfer package built"),
                            ("reviewed", "Reviewed, kept"),
                            ("skipped", "Not disposed (see why)"),
                        ],
                        default="eligible",
                        max_length=16,
                    ),
                ),
                ("outcome", models.CharField(blank=True, max_length=500)),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenants.agency",
                    ),
                ),
                (
                    "report",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="items",
                        to="records.dispositionreport",
                    ),
                ),
                (
                    "category",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="records.recordcategory",
                    ),
                ),
            ],
            options={
                "ordering": ["id"],
            },
        ),
        migrations.CreateModel(
            name="DestroyedRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "record_type",
                    models.CharField(
                        choices=[
                            ("conversation", "Conversation"),
                            ("message", "Message"),
                            ("media", "Media file"),
                            ("note", "Note"),
                        ],
                        max_length=16,
                    ),
                ),
                ("record_id", models.BigIntegerField()),
                ("leaf_hash", models.CharField(blank=True, max_length=64)),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenants.agency",
                    ),
                ),
                (
                    "certificate",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="records",
                        to="records.destructioncertificate",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("record_type", "record_id"), name="destroyed_once"
                    )
                ],
            },
        ),
        migrations.AddConstraint(
            model_name="destructioncertificate",
            constraint=models.UniqueConstraint(
                fields=("agency", "number"), name="destruction_cert_number"
            ),
        ),
        migrations.AddConstraint(
            model_name="fileplan",
            constraint=models.UniqueConstraint(fields=("agency",), name="file_plan_one_per_agency"),
        ),
        migrations.AddIndex(
            model_name="legalhold",
            index=models.Index(fields=["agency", "status"], name="legal_hold_status"),
        ),
        migrations.AddIndex(
            model_name="heldmessage",
            index=models.Index(fields=["message_id"], name="held_message_by_message"),
        ),
        migrations.AddIndex(
            model_name="heldmessage",
            index=models.Index(fields=["conversation_id"], name="held_message_by_conversation"),
        ),
        migrations.AddConstraint(
            model_name="heldmessage",
            constraint=models.UniqueConstraint(
                fields=("hold", "message_id"), name="held_message_once"
            ),
        ),
        migrations.AddConstraint(
            model_name="recordcategory",
            constraint=models.UniqueConstraint(
                models.F("agency"),
                models.F("kind"),
                django.db.models.functions.comparison.Coalesce(
                    models.F("phone_number"), models.Value(0)
                ),
                django.db.models.functions.comparison.Coalesce(models.F("team"), models.Value(0)),
                name="record_category_one_per_scope",
            ),
        ),
        migrations.AddConstraint(
            model_name="recordcategory",
            constraint=models.CheckConstraint(
                condition=models.Q(("authority", ""), _negated=True),
                name="record_category_has_authority",
            ),
        ),
        migrations.AddIndex(
            model_name="dispositionitem",
            index=models.Index(fields=["record_type", "record_id"], name="disposition_item_record"),
        ),
        *(
            EnableRowLevelSecurity(name)
            for name in (
                "legalhold",
                "heldmessage",
                "fileplan",
                "recordcategory",
                "dispositionreport",
                "dispositionitem",
                "destructioncertificate",
                "destroyedrecord",
            )
        ),
        migrations.RunPython(_postgres_only(FORWARD_SQL), _postgres_only(REVERSE_SQL)),
    ]
