from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _grant_privileges(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    from django.conf import settings

    from records.holds.models import HeldMessage
    from records.models import AuditChainHead, AuditEvent, RecordCheckpoint, RecordLeaf
    from records.retention.models import DestroyedRecord, DestructionCertificate
    from records.worm.models import ArchivedObject
    from tenants.rls import grant_app_role_privileges

    grant_app_role_privileges(
        settings.DATABASE_APP_ROLE,
        append_only_tables=[
            AuditEvent._meta.db_table,
            RecordLeaf._meta.db_table,
            RecordCheckpoint._meta.db_table,
            DestructionCertificate._meta.db_table,
            DestroyedRecord._meta.db_table,
            HeldMessage._meta.db_table,
        ],
        # The head only advances (trigger, records migration 0004); it is never removed.
        undeletable_tables=[AuditChainHead._meta.db_table, ArchivedObject._meta.db_table],
    )


class TenantsConfig(AppConfig):
    name = "tenants"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tenants import signals  # noqa: F401  (audit of logins)

        post_migrate.connect(_grant_privileges, sender=self, dispatch_uid="tenants.grants")
