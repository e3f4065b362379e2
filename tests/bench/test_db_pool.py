"""The web process's connection pool (``DATABASE_POOL_MAX_SIZE``): a pooled connection never
carries one agency's row-level-security scope into another agency's request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import close_old_connections, connection, connections
from django.http import HttpRequest, JsonResponse
from django.urls import path

from bsp.settings.base import database_pool_options
from messaging.models import Contact
from tenants.scoping import agency_scope
from tests.factories import AgencyFactory, ContactFactory


def _scoped_view(request: HttpRequest, agency_id: int) -> JsonResponse:
    """What a request sees: first through the raw psycopg connection (as code that bypasses
    tenants.db would), then through the ORM in the agency's scope."""
    connection.ensure_connection()
    raw = connection.connection.execute(
        "SELECT current_setting('app.agency_id', true), current_setting('app.all_agencies', true),"
        " pg_backend_pid()"
    ).fetchone()
    with agency_scope(agency_id):
        names = sorted(Contact.objects.values_list("profile_name", flat=True))
    return JsonResponse({"raw_agency": raw[0], "raw_all": raw[1], "pid": raw[2], "names": names})


urlpatterns = [path("scoped/<int:agency_id>", _scoped_view)]


@pytest.fixture
def pooled(transactional_db) -> Iterator[Any]:
    """The default database behind a pool of one connection, as web runs it."""
    wrapper: Any = connections["default"]  # the PostgreSQL wrapper, which has close_pool()
    wrapper.close()
    saved = (wrapper.settings_dict["CONN_MAX_AGE"], dict(wrapper.settings_dict["OPTIONS"]))
    wrapper.settings_dict["CONN_MAX_AGE"] = 0
    wrapper.settings_dict["OPTIONS"]["pool"] = database_pool_options(1)
    yield wrapper
    wrapper.close()
    wrapper.close_pool()
    wrapper.settings_dict["CONN_MAX_AGE"], wrapper.settings_dict["OPTIONS"] = saved


@pytest.fixture
def two_agencies(transactional_db) -> tuple[int, int]:
    a, b = AgencyFactory(), AgencyFactory()
    with agency_scope(a):
        ContactFactory(agency=a, profile_name="Citizen of A")
    with agency_scope(b):
        ContactFactory(agency=b, profile_name="Citizen of B")
    return a.pk, b.pk


def _two_requests(client: Any, a: int, b: int) -> tuple[dict[str, Any], dict[str, Any]]:
    answers = []
    for agency_id in (a, b):
        answers.append(client.get(f"/scoped/{agency_id}").json())
        # What Django's handlers do on request_finished (the test client leaves it out): with
        # CONN_MAX_AGE 0 the connection goes back to the pool.
        close_old_connections()
    return answers[0], answers[1]


@pytest.mark.urls(__name__)
def test_the_next_request_on_a_pooled_connection_starts_with_no_agency_scope(
    pooled, two_agencies, client
):
    a, b = two_agencies
    first, second = _two_requests(client, a, b)

    assert second["pid"] == first["pid"]  # one physical connection served both requests
    assert (second["raw_agency"], second["raw_all"]) == ("", "off")  # not agency A's
    assert first["names"] == ["Citizen of A"]
    assert second["names"] == ["Citizen of B"]


@pytest.mark.urls(__name__)
def test_without_the_reset_the_raw_connection_would_carry_the_last_agency(
    pooled, two_agencies, client
):
    # The control for the test above: the scope does survive a return to the pool, so the
    # reset is what clears it (the ORM is safe either way: tenants.db sets it again).
    options = pooled.settings_dict["OPTIONS"]["pool"]
    pooled.settings_dict["OPTIONS"]["pool"] = {k: v for k, v in options.items() if k != "reset"}
    pooled.close()
    pooled.close_pool()  # the next connection makes a pool with the new options
    a, b = two_agencies
    first, second = _two_requests(client, a, b)

    assert second["pid"] == first["pid"]
    assert second["raw_agency"] == str(a)
    assert second["names"] == ["Citizen of B"]


def test_a_pool_size_in_the_environment_pools_without_persistent_connections(monkeypatch):
    # Django refuses CONN_MAX_AGE != 0 beside a pool; the settings set it whenever they pool.
    from bsp.settings import base

    monkeypatch.setenv("DATABASE_POOL_MAX_SIZE", "4")
    databases: dict[str, dict[str, Any]] = {
        "default": {"ENGINE": "django.db.backends.postgresql", "CONN_MAX_AGE": 60}
    }
    base._use_rls_backend(databases)

    config = databases["default"]
    assert config["CONN_MAX_AGE"] == 0
    assert config["OPTIONS"]["pool"]["max_size"] == 4
    assert config["OPTIONS"]["pool"]["reset"] is base.forget_agency_scope
