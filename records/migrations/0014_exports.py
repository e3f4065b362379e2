"""The exports part of issue 12: export jobs (agency-owned, row-level security)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from tenants.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0013_worm"),
        ("tenants", "0006_agency_marketing_messages_api"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ExportJob",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "format",
                    models.CharField(
                        choices=[
                            ("rsmf", "RSMF 2.0 (Relativity Short Message Format)"),
                            ("eml", "EML (one message per conversation per day)"),
                            ("mbox", "MBOX (one mailbox per conversation)"),
                            ("pdf", "PDF/A transcript (one per conversation)"),
                            ("jsonl", "JSON Lines (canonical schema)"),
                            ("csv", "CSV (one row per message)"),
                        ],
                        max_length=8,
                    ),
                ),
                ("selection", models.JSONField(default=dict)),
                ("title", models.CharField(blank=True, max_length=200)),
                ("bates_prefix", models.CharField(blank=True, max_length=20)),
                ("bates_start", models.PositiveIntegerField(default=1)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("running", "Building"),
                            ("done", "Ready"),
                            ("failed", "Failed"),
                        ],
                        default="queued",
                        max_length=8,
                    ),
                ),
                ("total", models.PositiveIntegerField(blank=True, null=True)),
                ("processed", models.PositiveIntegerField(default=0)),
                ("package_name", models.CharField(blank=True, max_length=200)),
                ("storage_key", models.CharField(blank=True, max_length=512)),
                ("size_bytes", models.BigIntegerField(blank=True, null=True)),
                ("sha256", models.CharField(blank=True, max_length=64)),
                ("tagmanifest_sha256", models.CharField(blank=True, max_length=64)),
                ("bates_first", models.CharField(blank=True, max_length=40)),
                ("bates_last", models.CharField(blank=True, max_length=40)),
                ("error", models.CharField(blank=True, max_length=500)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenants.agency",
                    ),
                ),
                (
                    "requested_by",
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
                "indexes": [
                    models.Index(fields=["agency", "-created_at"], name="exportjob_recent")
                ],
            },
        ),
        EnableRowLevelSecurity("exportjob"),
    ]
