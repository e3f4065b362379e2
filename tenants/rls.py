"""Row-level security: the database's own guarantee that an agency sees only its rows.

Every tenant table gets a policy keyed on two session settings that ``tenants.db`` keeps
in step with the current scope: ``app.agency_id`` (the agency being served) and
``app.all_agencies`` ('on' only inside ``system_scope()``). With neither set, no row is
visible or writable. ``FORCE`` makes the table's owner subject to it too.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import connection, models
from django.db.migrations.operations.base import Operation

POLICY_NAME = "agency_isolation"
POLICY_PREDICATE = (
    "(current_setting('app.all_agencies', true) = 'on' "
    "OR agency_id = NULLIF(current_setting('app.agency_id', true), '')::bigint)"
)


def _enable_sql(table: str) -> list[str]:
    return [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
        f'DROP POLICY IF EXISTS {POLICY_NAME} ON "{table}"',
        f'CREATE POLICY {POLICY_NAME} ON "{table}" '
        f"USING {POLICY_PREDICATE} WITH CHECK {POLICY_PREDICATE}",
    ]


def _disable_sql(table: str) -> list[str]:
    return [
        f'DROP POLICY IF EXISTS {POLICY_NAME} ON "{table}"',
        f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY',
    ]


class EnableRowLevelSecurity(Operation):
    """Migration operation: isolate ``model``'s table by agency (PostgreSQL only)."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def _table(self, app_label: str, state: Any) -> str:
        return state.apps.get_model(app_label, self.model_name)._meta.db_table

    def _run(self, schema_editor: Any, statements: list[str]) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        self._run(schema_editor, _enable_sql(self._table(app_label, to_state)))

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        self._run(schema_editor, _disable_sql(self._table(app_label, from_state)))

    def describe(self) -> str:
        return f"Enable row-level security on {self.model_name}"

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (f"{__name__}.{type(self).__name__}", [], {"model_name": self.model_name})


def tenant_models() -> list[type[models.Model]]:
    """Every concrete model with an ``agency`` foreign key: the tables RLS must cover."""
    agency_model = apps.get_model("tenants", "Agency")
    found = []
    for model in apps.get_models():
        field = next((f for f in model._meta.fields if f.name == "agency"), None)
        if field is not None and field.related_model is agency_model:
            found.append(model)
    return found


def grant_app_role_privileges(
    role: str,
    *,
    append_only_tables: list[str],
    undeletable_tables: tuple[str, ...] | list[str] = (),
) -> bool:
    """Give the application role data access (not DDL); append-only tables get no UPDATE/DELETE.

    Undeletable tables keep UPDATE (a trigger limits what may change) but lose DELETE.

    Runs after every ``migrate`` as the schema owner. Returns False when the role is absent.
    """
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            return False
        cursor.execute("SELECT current_user")
        if cursor.fetchone()[0] == role:
            return False  # the app role is running migrations itself: nothing to grant
        quoted = connection.ops.quote_name(role)
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}"
        )
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
        for table in append_only_tables:
            cursor.execute(f'REVOKE UPDATE, DELETE, TRUNCATE ON "{table}" FROM {quoted}')
        for table in undeletable_tables:
            cursor.execute(f'REVOKE DELETE, TRUNCATE ON "{table}" FROM {quoted}')
    return True
