"""The agency scope: which agency's rows the current code may see.

One ContextVar holds the scope. ``AgencyScopedManager`` (the default manager of every
tenant model) filters by it and refuses to run without one, so an unscoped query of a
tenant model fails loudly instead of leaking. The PostgreSQL backend (``tenants.db``)
copies the same scope into the session settings that the row-level security policies
read, so raw SQL is scoped too.

Ways in: ``agency_scope(agency)`` for one agency; ``system_scope()`` for the few
cross-agency jobs (webhook routing, sweepers, platform operators, audit verification).
"""

from __future__ import annotations

from typing import Any

from django.db import models

from tenants.context import (
    Scope,
    TenantScopeError,
    _scope,
    agency_scope,
    agency_task,
    current_agency_id,
    current_scope,
    no_scope,
    system_scope,
)

__all__ = [
    "AgencyOwnedModel",
    "AgencyScopedManager",
    "Scope",
    "TenantScopeError",
    "agency_scope",
    "agency_task",
    "current_agency_id",
    "current_scope",
    "no_scope",
    "system_scope",
]


class AgencyScopedQuerySet(models.QuerySet):
    pass


class AgencyScopedManager(models.Manager.from_queryset(AgencyScopedQuerySet)):  # type: ignore[misc]
    """Default manager of tenant models: filtered by the current scope, closed without one."""

    def get_queryset(self) -> models.QuerySet[Any]:
        scope = _scope.get()
        queryset = super().get_queryset()
        if scope is None:
            raise TenantScopeError(
                f"{self.model.__name__} queried outside an agency scope; use agency_scope() "
                "or, for platform jobs, system_scope()."
            )
        if scope.all_agencies:
            return queryset
        return queryset.filter(agency_id=scope.agency_id)

    def none(self) -> models.QuerySet[Any]:
        """An empty queryset needs no scope (e.g. a form field's placeholder queryset)."""
        return super().get_queryset().none()


class AgencyOwnedModel(models.Model):
    """Base of every tenant-owned table: an ``agency`` column and the scoped manager."""

    agency = models.ForeignKey("tenants.Agency", on_delete=models.PROTECT, related_name="+")

    objects = AgencyScopedManager()

    class Meta:
        abstract = True
        base_manager_name = "objects"

    def save(self, *args: Any, **kwargs: Any) -> None:
        scope = _scope.get()
        if self.agency_id is None and scope is not None and scope.agency_id is not None:
            self.agency_id = scope.agency_id
        if scope is None or (not scope.all_agencies and scope.agency_id != self.agency_id):
            raise TenantScopeError(
                f"{type(self).__name__} for agency {self.agency_id} saved outside its scope."
            )
        super().save(*args, **kwargs)
