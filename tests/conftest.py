"""Test database setup: the schema owner migrates, the application role runs the tests.

PostgreSQL superusers bypass row-level security, so the tests connect exactly as the
application does in production: as ``civic_app``, an ordinary role without BYPASSRLS
that does not own the tables. ``civic_owner`` creates the test database and migrates it.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from types import ModuleType

import psycopg
import pytest
from django.conf import settings
from django.db import connections

from tenants.db.roles import ROLES_SQL
from tenants.scoping import agency_scope, system_scope


def _ensure_roles() -> None:
    with psycopg.connect(settings.DATABASE_ADMIN_URL, autocommit=True) as conn:
        conn.execute(ROLES_SQL)


def _set_user(user: str) -> None:
    for alias in connections:
        connections[alias].close()
        connections[alias].settings_dict["USER"] = user
        settings.DATABASES[alias]["USER"] = user


@pytest.fixture(scope="session")
def django_db_setup(
    request, django_test_environment, django_db_blocker, django_db_modify_db_settings
):
    from django.test.utils import setup_databases, teardown_databases

    app_user = settings.DATABASES["default"]["USER"]
    owner_user = str(psycopg.conninfo.conninfo_to_dict(settings.DATABASE_OWNER_URL)["user"])
    _ensure_roles()
    with django_db_blocker.unblock():
        _set_user(owner_user)
        db_cfg = setup_databases(
            verbosity=0, interactive=False, keepdb=False, serialized_aliases=set()
        )
        # Test-only: transactional tests empty the tables with TRUNCATE between tests.
        with connections["default"].cursor() as cursor:
            cursor.execute(f"GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO {app_user}")
        _set_user(app_user)
    yield
    with django_db_blocker.unblock():
        _set_user(owner_user)
        teardown_databases(db_cfg, verbosity=0)


@pytest.fixture(autouse=True)
def _root_logger_level_kept() -> Iterator[None]:
    """Celery's in-process test worker (``celery.contrib.testing``) sets the root logger to
    ERROR and leaves it there, which silenced later tests' warnings depending on the order
    xdist ran them in."""
    root = logging.getLogger()
    level = root.level
    yield
    root.setLevel(level)


@pytest.fixture
def owner_cursor(db):
    """A separate connection as the schema owner (for tests that play a malicious DBA)."""
    params = connections["default"].get_connection_params()
    params["user"] = psycopg.conninfo.conninfo_to_dict(settings.DATABASE_OWNER_URL)["user"]
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as conn:
        yield conn


@pytest.fixture
def in_system_scope():
    with system_scope():
        yield


@pytest.fixture
def agency_a(db):
    from tests.factories import AgencyFactory

    return AgencyFactory(name="Agency A", slug="agency-a")


@pytest.fixture
def agency_b(db):
    from tests.factories import AgencyFactory

    return AgencyFactory(name="Agency B", slug="agency-b")


@pytest.fixture
def scope_a(agency_a):
    with agency_scope(agency_a):
        yield agency_a


@pytest.fixture(scope="session")
def s3_server():
    """A real S3-compatible server (moto in server mode) on a free local port."""
    import socket

    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_settings(s3_server, settings):
    """Point the default storage at a fresh bucket on the S3 server."""
    import uuid

    import boto3

    bucket = f"civic-test-{uuid.uuid4().hex[:12]}"
    credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    boto3.client(
        "s3", endpoint_url=s3_server, region_name="us-east-1", **credentials
    ).create_bucket(Bucket=bucket)
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_S3_ENDPOINT_URL = s3_server
    settings.AWS_ACCESS_KEY_ID = "test"
    settings.AWS_SECRET_ACCESS_KEY = "test"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage"},
    }
    return bucket


pytest_plugins = ["tests.simulator_fixture"]


@pytest.fixture
def operator(db):
    """A platform operator (superuser) who has set up MFA."""
    from allauth.mfa.models import Authenticator

    from tests.factories import UserFactory

    user = UserFactory(is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    return user


# --- Markers and timeouts ----------------------------------------------------------------

# A test starting real processes waits for them to boot (and the demo smoke test for all of
# them at once, on a shared 2-core machine): it gets this instead of pyproject's default.
PROCESSES_TIMEOUT = 600


def starts_processes(module: ModuleType) -> bool:
    """Whether a test module starts real processes: it uses ``tests.processes`` (or, for the
    few that run a command to completion, ``subprocess`` itself)."""
    import tests.processes

    return any(
        value is tests.processes
        or value is subprocess
        or getattr(value, "__module__", None) == tests.processes.__name__
        for value in vars(module).values()
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        module = getattr(item, "module", None)
        if module is None or not starts_processes(module):
            continue
        item.add_marker(pytest.mark.processes)
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(PROCESSES_TIMEOUT))
