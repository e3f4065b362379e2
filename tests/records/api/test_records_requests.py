"""Public-records requests through the API: intake (the same service as the intake page, the
same tracking number and working-day clock), the request's status with its extensions,
pauses and item counts, and its productions' downloads. The review stays in the UI."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from records.exports.verify import trusted_keys, verify_package
from records.foia import calendar, services
from records.foia.models import Production, RecordsRequest, RequestItem
from records.models import AuditEvent
from tenants.scoping import agency_scope
from tests.factories import AgencyFactory, ConversationFactory, InboundMessageFactory
from tests.records.api.conftest import produced, records_key
from tests.records.foia.conftest import ACTOR, federal, new_request

pytestmark = pytest.mark.django_db
URL = "/api/v1/records-requests/"
MONDAY = dt.date(2026, 11, 16)


@pytest.fixture
def agency():
    return AgencyFactory(slug="water", timezone="UTC")


@pytest.fixture
def foia(agency):
    return federal(agency)


@pytest.fixture
def auth(agency):
    return records_key(agency)


def _intake(foia, **changes):
    body = {
        "requester_name": "Pat Reporter",
        "requester_contact": "pat@news.example",
        "received_on": MONDAY.isoformat(),
        "description": "Messages about the water main break.",
        "jurisdiction": foia.pk,
    }
    body.update(changes)
    return body


def _post(client, auth, body):
    return client.post(URL, json.dumps(body), content_type="application/json", **auth)


def _requests(agency) -> list[RecordsRequest]:
    with agency_scope(agency):
        return list(RecordsRequest.objects.all())


@time_machine.travel(dt.datetime(2026, 11, 18, 15, tzinfo=dt.UTC), tick=False)
def test_an_integrator_records_a_request_with_its_number_and_due_date(client, agency, foia, auth):
    response = _post(client, auth, _intake(foia))

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["number"] == "2026-0001"
    assert data["status"] == "received"
    assert data["jurisdiction"]["name"] == "Federal FOIA"
    # 20 working days from Monday 16 November, over Thanksgiving (no holidays set up here).
    assert data["clock"]["due_on"] == calendar.add_working_days(MONDAY, 20, set()).isoformat()
    assert data["clock"]["used_working_days"] == 2
    assert data["items"] == {
        "total": 0,
        "produced": 0,
        "by_decision": {"pending": 0, "responsive": 0, "not_responsive": 0, "withheld": 0},
    }
    (created,) = _requests(agency)
    with agency_scope(agency):
        event = AuditEvent.objects.get(action="records_request.created")
    assert (event.actor_type, event.object_id) == ("api", str(created.pk))
    assert created.created_by is None


@time_machine.travel(dt.datetime(2026, 12, 3, 15, tzinfo=dt.UTC), tick=False)
def test_the_status_shows_extensions_pauses_and_the_clock(client, agency, foia, auth):
    request = new_request(agency, foia, received_on=MONDAY)
    services.extend(request, actor=ACTOR, days=10, reason="Unusual volume of records.")
    services.toll(request, actor=ACTOR, reason="Waiting for the requester's fee agreement.")

    data = client.get(f"{URL}{request.pk}/", **auth).json()

    assert data["clock"]["due_on"] is None
    assert data["clock"]["paused_since"] == "2026-12-03"
    assert data["clock"]["allowed_working_days"] == 30
    assert [(e["kind"], e["days"]) for e in data["clock_events"]] == [
        ("extension", 10),
        ("toll", 0),
    ]
    assert data["clock_events"][0]["reason"] == "Unusual volume of records."


def test_the_status_counts_the_review_sets_decisions(client, agency, foia, auth):
    request = new_request(agency, foia)
    conversation = ConversationFactory(agency=agency)
    with agency_scope(agency):
        for decision in ("pending", "responsive", "responsive", "withheld", "not_responsive"):
            RequestItem.objects.create(
                agency=agency,
                request=request,
                message=InboundMessageFactory(agency=agency, conversation=conversation),
                decision=decision,
            )

    items = client.get(f"{URL}{request.pk}/", **auth).json()["items"]

    assert items == {
        "total": 5,
        "produced": 3,
        "by_decision": {"pending": 1, "responsive": 2, "not_responsive": 1, "withheld": 1},
    }


def test_the_list_is_the_agencys_requests_newest_first(client, agency, foia, auth):
    first, second = new_request(agency, foia), new_request(agency, foia)
    other = AgencyFactory(slug="parks")
    new_request(other, federal(other))

    rows = client.get(URL, **auth).json()["results"]

    assert [r["number"] for r in rows] == [second.number, first.number]
    assert "clock_events" not in rows[0]


def test_the_jurisdictions_are_the_agencys(client, agency, foia, auth):
    other = AgencyFactory(slug="parks")
    theirs = federal(other)

    names = {
        j["id"]: j["name"]
        for j in client.get("/api/v1/records-jurisdictions/", **auth).json()["results"]
    }

    assert names[foia.pk] == "Federal FOIA"
    assert theirs.pk not in names


def test_a_production_is_listed_and_downloads_as_the_ui_gives_it(
    client, agency, foia, auth, tmp_path
):
    request = new_request(agency, foia)
    production = produced(agency, request)

    rows = client.get(f"{URL}{request.pk}/productions/", **auth).json()["results"]
    assert [(r["id"], r["status"], r["item_count"]) for r in rows] == [(production.pk, "done", 2)]
    assert (rows[0]["bates_first"], rows[0]["bates_last"]) == ("W0000001", "W0000002")

    download = client.get(rows[0]["links"]["download"], **auth)

    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    data = b"".join(download.streaming_content)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert any(n.endswith("/redaction-log.csv") for n in names)
    # The signed package inside verifies as records_verify_export verifies it.
    zipfile.ZipFile(io.BytesIO(data)).extractall(tmp_path / "out")
    (top,) = (tmp_path / "out").iterdir()
    package = next(p for p in top.iterdir() if p.is_dir())
    assert verify_package(package, trusted_keys()).ok
    with agency_scope(agency):
        event = AuditEvent.objects.get(action="records_request.production_downloaded")
    assert event.actor_type == "api"


def test_a_production_not_built_yet_is_409_production_not_ready(client, agency, foia, auth):
    request = new_request(agency, foia)
    with agency_scope(agency):
        queued = Production.objects.create(
            agency=agency, request=request, fmt="pdf", bates_prefix="W", bates_start=1
        )

    response = client.get(f"{URL}{request.pk}/productions/{queued.pk}/download", **auth)

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "production_not_ready"
    listed = client.get(f"{URL}{request.pk}/productions/", **auth).json()["results"]
    assert listed[0]["links"]["download"] is None


def test_a_production_of_another_request_or_agency_is_not_found(client, agency, foia, auth):
    mine, other_request = new_request(agency, foia), new_request(agency, foia)
    production = produced(agency, other_request)
    other = AgencyFactory(slug="parks")
    theirs = new_request(other, federal(other))

    assert (
        client.get(f"{URL}{mine.pk}/productions/{production.pk}/download", **auth).status_code
        == 404
    )
    assert client.get(f"{URL}{theirs.pk}/", **auth).status_code == 404
    assert client.get(f"{URL}{theirs.pk}/productions/", **auth).status_code == 404
    assert client.get(f"{URL}{2**70}/", **auth).status_code == 404


@time_machine.travel(dt.datetime(2026, 11, 18, 15, tzinfo=dt.UTC), tick=False)
@pytest.mark.parametrize(
    ("changes", "pointer"),
    [
        ({"received_on": "2026-11-19"}, "/received_on"),  # tomorrow
        ({"received_on": "16/11/2026"}, "/received_on"),
        ({"received_on": "0000-01-01"}, "/received_on"),
        ({"first_received_on": "2026-11-17"}, "/first_received_on"),  # after received_on
        ({"jurisdiction": 2**70}, "/jurisdiction"),
        ({"jurisdiction": "federal"}, "/jurisdiction"),
        ({"requester_name": ""}, "/requester_name"),
        ({"requester_name": "x" * 201}, "/requester_name"),
        ({"description": None}, "/description"),
        ({"description": "\x00"}, "/description"),
    ],
    ids=str,
)
def test_bad_input_is_a_400_naming_the_field(client, agency, foia, auth, changes, pointer):
    response = _post(client, auth, _intake(foia, **changes))

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert pointer in [e["pointer"] for e in response.json()["errors"]]
    assert _requests(agency) == []


def test_another_agencys_jurisdiction_is_a_400(client, agency, foia, auth):
    other = AgencyFactory(slug="parks")

    response = _post(client, auth, _intake(foia, jurisdiction=federal(other).pk))

    assert response.status_code == 400
    assert [e["pointer"] for e in response.json()["errors"]] == ["/jurisdiction"]
    assert _requests(agency) == []


def test_a_production_no_longer_on_disk_is_410(client, agency, foia, auth):
    request = new_request(agency, foia)
    production = produced(agency, request)
    shutil.rmtree(Path(production.path).parent)

    response = client.get(f"{URL}{request.pk}/productions/{production.pk}/download", **auth)

    assert response.status_code == 410
    assert response.json()["code"] == "production_package_missing"


def test_a_retry_with_the_same_idempotency_key_records_one_request(client, agency, foia, auth):
    body = json.dumps(_intake(foia))

    first, again = (
        client.post(URL, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="r-1", **auth)
        for _ in range(2)
    )

    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert len(_requests(agency)) == 1


def test_the_list_reads_the_same_number_of_queries_for_more_requests(client, agency, foia, auth):
    new_request(agency, foia)
    client.get(URL, **auth)  # the credential's first use is recorded once
    with CaptureQueriesContext(connection) as one:
        client.get(URL, **auth)
    for _ in range(4):
        request = new_request(agency, foia)
        services.extend(request, actor=ACTOR, days=5, reason="Volume.")

    with CaptureQueriesContext(connection) as five:
        rows = client.get(URL, **auth).json()["results"]

    assert len(rows) == 5
    assert len(five.captured_queries) == len(one.captured_queries)
