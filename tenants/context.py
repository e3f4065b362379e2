"""The agency scope itself: a ContextVar and the ways to enter it.

Kept free of Django model imports so the database backend (``tenants.db``) can read it.
See ``tenants.scoping`` for how managers and row-level security use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, ParamSpec, TypeVar

if TYPE_CHECKING:
    from tenants.models import Agency


class TenantScopeError(RuntimeError):
    """A tenant model was queried with no agency scope active."""


@dataclass(frozen=True)
class Scope:
    agency_id: int | None  # None with all_agencies=True means "every agency"
    all_agencies: bool = False


_scope: ContextVar[Scope | None] = ContextVar("agency_scope", default=None)


def current_scope() -> Scope | None:
    return _scope.get()


def current_agency_id() -> int | None:
    scope = _scope.get()
    return scope.agency_id if scope else None


@contextmanager
def agency_scope(agency: Agency | int) -> Iterator[None]:
    """Run the block as ``agency``: queries see and write only its rows."""
    agency_id = agency if isinstance(agency, int) else agency.pk
    token = _scope.set(Scope(agency_id=agency_id))
    try:
        yield
    finally:
        _scope.reset(token)


@contextmanager
def system_scope() -> Iterator[None]:
    """Run the block across every agency. Reserved for platform jobs; grep for it."""
    token = _scope.set(Scope(agency_id=None, all_agencies=True))
    try:
        yield
    finally:
        _scope.reset(token)


@contextmanager
def no_scope() -> Iterator[None]:
    """Run the block with no agency at all (tests use it to prove the default is closed)."""
    token = _scope.set(None)
    try:
        yield
    finally:
        _scope.reset(token)


P = ParamSpec("P")
R = TypeVar("R")


def agency_task(func: Callable[P, R]) -> Callable[P, R]:
    """For Celery tasks taking ``agency_id=``: run the body inside that agency's scope."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        # P.kwargs values are typed as object; the tasks pass an int (or its str).
        with agency_scope(int(kwargs["agency_id"])):  # type: ignore[call-overload]
            return func(*args, **kwargs)

    return wrapper
