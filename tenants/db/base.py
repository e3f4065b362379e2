"""PostgreSQL backend that carries the agency scope into row-level security.

Before each statement, if the connection's session settings differ from the current
scope (``tenants.scoping``), it runs one ``set_config`` for ``app.agency_id`` and
``app.all_agencies``, which the RLS policies read (see ``tenants.rls``). The values are
session-level so they survive autocommit statements; because a rollback undoes a
``set_config`` made inside the rolled-back transaction, any rollback forgets what the
connection was last told and the next statement sets it again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.backends.postgresql import base

from tenants.context import current_scope

_SET_SCOPE_SQL = (
    "SELECT set_config('app.agency_id', %s, false), set_config('app.all_agencies', %s, false)"
)


# Savepoint statements touch no rows and may run while the transaction is aborted.
_TRANSACTION_CONTROL = ("SAVEPOINT", "ROLLBACK", "RELEASE")


def _wanted_settings() -> tuple[str, str]:
    scope = current_scope()
    if scope is None:
        return ("", "off")
    if scope.all_agencies:
        return ("", "on")
    return (str(scope.agency_id), "off")


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._scope_settings: tuple[str, str] | None = None
        self.execute_wrappers.append(self._apply_scope)

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        self._scope_settings = None
        return super().get_new_connection(conn_params)

    def _rollback(self) -> None:
        super()._rollback()  # type: ignore[misc]  # private hook, absent from django-stubs
        self._scope_settings = None

    def _savepoint_rollback(self, sid: str) -> None:
        # Forget only after the ROLLBACK TO SAVEPOINT ran: before it, the transaction may be
        # in the aborted state where our set_config would itself fail.
        super()._savepoint_rollback(sid)  # type: ignore[misc]  # private hook, as above
        self._scope_settings = None

    def _apply_scope(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        wanted = _wanted_settings()
        if wanted != self._scope_settings and not sql.startswith(_TRANSACTION_CONTROL):
            # The raw connection, not this cursor: it may be a server-side (named) cursor.
            self.connection.execute(_SET_SCOPE_SQL, wanted)
            self._scope_settings = wanted
        return execute(sql, params, many, context)
