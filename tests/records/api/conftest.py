"""Fixtures of the records API tests: the small record of the export tests (agency "dmv"
and another agency), a credential with ``records:export``, Celery run in the test's
thread, and productions written under a temporary directory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bsp.celery import app as celery_app
from records.foia import services
from records.foia.models import Production, RecordsRequest, RequestItem
from tenants.api.scopes import Scope
from tenants.scoping import agency_scope
from tests.api.helpers import bearer, make_key
from tests.factories import ConversationFactory, InboundMessageFactory
from tests.records.exports.conftest import per_day_slices, record  # noqa: F401  (fixtures)
from tests.records.foia.conftest import ACTOR


@pytest.fixture
def eager() -> Iterator[None]:
    """Tasks sent after commit run at once, in the test (as the export job tests do)."""
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def productions_dir(settings, tmp_path):
    settings.RECORDS_PRODUCTIONS_DIR = str(tmp_path / "productions")


def records_key(agency) -> dict[str, str]:
    """The Authorization header of a new credential of ``agency`` with records:export."""
    _, raw = make_key(agency, Scope.RECORDS_EXPORT)
    return bearer(raw)


def produced(agency, request: RecordsRequest) -> Production:
    """A production of ``request`` built now: two responsive messages, as JSON Lines."""
    conversation = ConversationFactory(agency=agency)
    with agency_scope(agency):
        for body in ("The main broke on Elm St.", "Crews are on site."):
            message = InboundMessageFactory(
                agency=agency,
                conversation=conversation,
                content={"type": "text", "text": {"body": body}},
            )
            RequestItem.objects.create(
                agency=agency, request=request, message=message, decision="responsive"
            )
    return services.produce(request, actor=ACTOR, fmt="jsonl", bates_prefix="W", bates_start=1)
