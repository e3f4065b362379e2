"""Public-records requests (issue 12 §6): jurisdictions and their exemption codes, the
agency's holidays, requests with their clock, review set, redactions and productions; every
table isolated by agency (row-level security)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from tenants.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0014_exports"),
        ("messaging", "0011_reach_and_route"),
        ("tenants", "0006_agency_marketing_messages_api"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Jurisdiction",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=120)),
                ("response_days", models.PositiveSmallIntegerField()),
                ("extension_days", models.PositiveSmallIntegerField(default=0)),
                ("routing_days", models.PositiveSmallIntegerField(default=0)),
                ("citation", models.CharField(blank=True, max_length=200)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
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
                "ordering": ["name"],
            },
        ),
        migrations.CreateModel(
            name="ExemptionCode",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.CharField(max_length=40)),
                ("label", models.CharField(max_length=200)),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenants.agency",
                    ),
                ),
                (
                    "jurisdiction",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="codes",
                        to="records.jurisdiction",
                    ),
                ),
            ],
            options={
                "ordering": ["jurisdiction_id", "id"],
            },
        ),
        migrations.CreateModel(
            name="RecordsRequest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.CharField(max_length=20)),
                ("requester_name", models.CharField(max_length=200)),
                ("requester_contact", models.CharField(max_length=300)),
                ("received_on", models.DateField()),
                ("first_received_on", models.DateField(blank=True, null=True)),
                ("description", models.TextField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("received", "Received"),
                            ("searching", "Searching"),
                            ("in_review", "In review"),
                            ("production_ready", "Production ready"),
                            ("closed", "Produced and closed"),
                        ],
                        default="received",
                        max_length=20,
                    ),
                ),
                ("status_changed_at", models.DateTimeField()),
                ("status_changed_by", models.CharField(blank=True, max_length=200)),
                ("due_on", models.DateField(blank=True, null=True)),
                ("tolled_since", models.DateField(blank=True, null=True)),
                ("bates_prefix", models.CharField(max_length=30)),
                ("hold_id", models.BigIntegerField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("closed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenants.agency",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "jurisdiction",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="records.jurisdiction",
                    ),
                ),
            ],
            options={
                "ordering": ["-received_on", "-id"],
            },
        ),
        migrations.CreateModel(
            name="Production",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("building", "Building"),
                            ("done", "Ready"),
                            ("failed", "Failed"),
                        ],
                        default="queued",
                        max_length=10,
                    ),
                ),
                ("error", models.CharField(blank=True, max_length=500)),
                ("message_ids", models.JSONField(default=list)),
                ("redactions", models.JSONField(default=dict)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("fmt", models.CharField(max_length=8)),
                ("bates_prefix", models.CharField(max_length=30)),
                ("bates_start", models.PositiveIntegerField()),
                ("bates_first", models.CharField(blank=True, max_length=40)),
                ("bates_last", models.CharField(blank=True, max_length=40)),
                ("item_count", models.PositiveIntegerField(default=0)),
                ("redaction_count", models.PositiveIntegerField(default=0)),
                ("path", models.CharField(blank=True, max_length=1000)),
                ("tagmanifest_sha256", models.CharField(blank=True, max_length=64)),
                ("created_by", models.CharField(blank=True, max_length=200)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenants.agency",
                    ),
                ),
                (
                    "request",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="productions",
                        to="records.recordsrequest",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="ClockEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("extension", "Extension"),
                            ("toll", "Clock paused (tolled)"),
                            ("resume", "Clock resumed"),
                        ],
                        max_length=12,
                    ),
                ),
                ("on", models.DateField()),
                ("days", models.PositiveSmallIntegerField(default=0)),
                ("reason", models.CharField(max_length=500)),
                ("actor_label", models.CharField(blank=True, max_length=200)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenants.agency",
                    ),
                ),
                (
                    "request",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="clock",
                        to="records.recordsrequest",
                    ),
                ),
            ],
            options={
                "ordering": ["on", "id"],
            },
        ),
        migrations.CreateModel(
            name="RequestActivity",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("action", models.CharField(max_length=40)),
                ("detail", models.CharField(max_length=500)),
                ("data", models.JSONField(blank=True, default=dict)),
                ("actor_label", models.CharField(blank=True, max_length=200)),
                ("at", models.DateTimeField()),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenants.agency",
                    ),
                ),
                (
                    "request",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="activities",
                        to="records.recordsrequest",
                    ),
                ),
            ],
            options={
                "ordering": ["-at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="RequestItem",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "decision",
                    models.CharField(
                        choices=[
                            ("pending", "Not reviewed"),
                            ("responsive", "Responsive"),
                            ("not_responsive", "Not responsive"),
                            ("withheld", "Withheld in full"),
                        ],
                        default="pending",
                        max_length=16,
                    ),
                ),
                ("withheld_code", models.CharField(blank=True, max_length=40)),
                ("decided_by", models.CharField(blank=True, max_length=200)),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                ("added_at", models.DateTimeField(auto_now_add=True)),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenants.agency",
                    ),
                ),
                (
                    "message",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="messaging.message",
                    ),
                ),
                (
                    "request",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="items",
                        to="records.recordsrequest",
                    ),
                ),
            ],
            options={
                "ordering": ["message_id"],
            },
        ),
        migrations.CreateModel(
            name="Redaction",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("text", "Text"), ("media", "Media file")], max_length=8
                    ),
                ),
                ("start", models.PositiveIntegerField(blank=True, null=True)),
                ("end", models.PositiveIntegerField(blank=True, null=True)),
                ("code", models.CharField(max_length=40)),
                ("note", models.CharField(blank=True, max_length=500)),
                ("created_by", models.CharField(blank=True, max_length=200)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenants.agency",
                    ),
                ),
                (
                    "media",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="messaging.mediaobject",
                    ),
                ),
                (
                    "request",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="redactions",
                        to="records.recordsrequest",
                    ),
                ),
                (
                    "item",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="redactions",
                        to="records.requestitem",
                    ),
                ),
            ],
            options={
                "ordering": ["item_id", "start", "id"],
            },
        ),
        migrations.CreateModel(
            name="AgencyHoliday",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("date", models.DateField()),
                ("name", models.CharField(max_length=120)),
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
                "ordering": ["date"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("agency", "date"), name="foia_holiday_unique_date"
                    )
                ],
            },
        ),
        migrations.AddConstraint(
            model_name="jurisdiction",
            constraint=models.UniqueConstraint(
                fields=("agency", "name"), name="foia_jurisdiction_unique_name"
            ),
        ),
        migrations.AddConstraint(
            model_name="exemptioncode",
            constraint=models.UniqueConstraint(
                fields=("jurisdiction", "code"), name="foia_exemption_unique_code"
            ),
        ),
        migrations.AddConstraint(
            model_name="recordsrequest",
            constraint=models.UniqueConstraint(
                fields=("agency", "number"), name="foia_request_unique_number"
            ),
        ),
        migrations.AddConstraint(
            model_name="requestitem",
            constraint=models.UniqueConstraint(
                fields=("request", "message"), name="foia_item_unique_message"
            ),
        ),
        EnableRowLevelSecurity("jurisdiction"),
        EnableRowLevelSecurity("exemptioncode"),
        EnableRowLevelSecurity("agencyholiday"),
        EnableRowLevelSecurity("recordsrequest"),
        EnableRowLevelSecurity("clockevent"),
        EnableRowLevelSecurity("requestactivity"),
        EnableRowLevelSecurity("requestitem"),
        EnableRowLevelSecurity("redaction"),
        EnableRowLevelSecurity("production"),
    ]
