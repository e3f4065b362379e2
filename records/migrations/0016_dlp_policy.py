"""The DLP policy of issue 12 §8: one policy row per agency, the findings beside each
message (kinds and offsets, never values), and the automatic reply's cooldown; each table
isolated by agency (row-level security)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import records.dlp.models
from tenants.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0015_foia"),
        ("messaging", "0011_reach_and_route"),
        ("tenants", "0006_agency_marketing_messages_api"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DlpPolicy",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("outbound_block", models.BooleanField(default=True)),
                ("outbound_kinds", models.JSONField(default=records.dlp.models._all_kinds)),
                ("override_roles", models.JSONField(default=records.dlp.models._override_roles)),
                ("inbound_flag", models.BooleanField(default=True)),
                ("inbound_mask", models.BooleanField(default=True)),
                ("reveal_roles", models.JSONField(default=records.dlp.models._reveal_roles)),
                ("phi_hints", models.BooleanField(default=False)),
                ("auto_reply_enabled", models.BooleanField(default=False)),
                (
                    "auto_reply_text",
                    models.TextField(default=records.dlp.models.DEFAULT_AUTO_REPLY),
                ),
                ("auto_reply_hours", models.PositiveSmallIntegerField(default=24)),
                ("rules_version", models.PositiveIntegerField(default=0)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "agency",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="dlp_policy",
                        to="tenants.agency",
                    ),
                ),
                (
                    "updated_by",
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
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("auto_reply_hours__gte", 1), ("auto_reply_hours__lte", 720)
                        ),
                        name="dlp_policy_auto_reply_hours",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="DlpFlag",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "direction",
                    models.CharField(
                        choices=[("in", "Inbound"), ("out", "Outbound")], max_length=3
                    ),
                ),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("flagged", "Flagged"),
                            ("justified", "Sent with a justification"),
                        ],
                        default="flagged",
                        max_length=16,
                    ),
                ),
                ("kinds", models.JSONField(default=list)),
                ("findings", models.JSONField(default=list)),
                ("detector_version", models.CharField(max_length=16)),
                ("justification", models.TextField(blank=True)),
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
                    "conversation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="messaging.conversation",
                    ),
                ),
                (
                    "justified_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "message",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="dlp_flag",
                        to="messaging.message",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["conversation", "created_at"], name="dlp_flag_conv")
                ],
            },
        ),
        migrations.CreateModel(
            name="DlpAutoReply",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("sent_at", models.DateTimeField()),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenants.agency",
                    ),
                ),
                (
                    "conversation",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="messaging.conversation",
                    ),
                ),
                (
                    "message",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="messaging.message",
                    ),
                ),
            ],
        ),
        EnableRowLevelSecurity("dlppolicy"),
        EnableRowLevelSecurity("dlpflag"),
        EnableRowLevelSecurity("dlpautoreply"),
    ]
