"""Exports through the API: an integrator asks for the same export job as the Exports page,
follows its progress and downloads the signed package, which verifies as
``records_verify_export`` verifies it; before it is built the download is a 409; bad input
and another agency's ids are 4xx problems, never a 500."""

from __future__ import annotations

import hashlib
import json

import pytest

from records.audit import Actor
from records.exports.models import ExportJob
from records.exports.verify import trusted_keys, verify_package
from records.holds.services import place_hold
from records.models import AuditEvent
from records.selection import Selection
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import ConversationFactory, MembershipFactory, PhoneNumberFactory
from tests.frontend.conftest import enroll_totp
from tests.records.api.conftest import records_key

pytestmark = pytest.mark.django_db
URL = "/api/v1/exports/"


def _post(client, auth, body, **headers):
    return client.post(URL, json.dumps(body), content_type="application/json", **auth, **headers)


def _jobs(agency) -> list[ExportJob]:
    with agency_scope(agency):
        return list(ExportJob.objects.order_by("pk"))


def test_an_integrator_exports_and_downloads_the_signed_package(
    record, client, eager, django_capture_on_commit_callbacks, tmp_path
):
    auth = records_key(record.agency)
    body = {
        "format": "jsonl",
        "selection": {"contact": "+1 415 555 0100"},
        "title": "Matter 7",
        "bates_prefix": "M7-",
    }

    with django_capture_on_commit_callbacks(execute=True):
        created = _post(client, auth, body)

    assert created.status_code == 202, created.content
    assert created.json()["status"] == "queued"
    job_url = created.json()["links"]["self"]
    job = client.get(job_url, **auth).json()
    assert job["status"] == "done"
    assert job["progress"] == {"processed": 6, "total": 6, "percent": 100}
    assert (job["bates_first"], job["bates_last"]) == ("M7-0000001", "M7-0000006")
    assert job["selection"] == {"contact": "+14155550100"}

    download = client.get(job["links"]["download"], **auth)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    data = b"".join(download.streaming_content)
    assert len(data) == job["size_bytes"]
    assert hashlib.sha256(data).hexdigest() == job["sha256"]
    archive = tmp_path / "package.zip"
    archive.write_bytes(data)
    report = verify_package(archive, trusted_keys())
    assert report.ok, report.problem
    assert report.files > 0


def test_the_api_credential_is_the_actor_of_the_request_and_the_download(
    record, client, eager, django_capture_on_commit_callbacks
):
    auth = records_key(record.agency)
    with django_capture_on_commit_callbacks(execute=True):
        job_id = _post(client, auth, {"format": "csv"}).json()["id"]
    client.get(f"{URL}{job_id}/download", **auth)

    with agency_scope(record.agency):
        events = {
            e.action: e
            for e in AuditEvent.objects.filter(
                action__in=["records.export_requested", "records.export_downloaded"]
            )
        }
    assert {e.actor_type for e in events.values()} == {"api"}
    assert events["records.export_downloaded"].object_id == str(job_id)


def test_the_selection_is_the_shared_selection_the_ui_stores(record, client):
    auth = records_key(record.agency)
    number = PhoneNumberFactory(agency=record.agency)
    body = {
        "format": "rsmf",
        "selection": {
            "conversation": record.conversation.pk,
            "phone_number": number.pk,
            "since": "2026-03-01T00:00:00Z",
            "until": "2026-03-02T12:00:00-05:00",
            "query": '"renew please"',
        },
    }

    assert _post(client, auth, body).status_code == 202

    (job,) = _jobs(record.agency)
    assert Selection.from_json(job.selection) == Selection(
        conversation_id=record.conversation.pk,
        phone_number_id=number.pk,
        since=Selection.from_json({"since": "2026-03-01T00:00:00+00:00"}).since,
        until=Selection.from_json({"until": "2026-03-02T17:00:00+00:00"}).until,
        query='"renew please"',
    )


def test_an_export_of_what_a_legal_hold_holds(
    record, client, eager, django_capture_on_commit_callbacks
):
    with agency_scope(record.agency):
        hold = place_hold(
            record.agency.pk,
            matter_id="LIT-2026-014",
            reason="Litigation",
            owner_id=None,
            selection=Selection(message_ids=(record.messages["hello"].pk,)),
            actor=Actor.system("test"),
        )
    auth = records_key(record.agency)

    with django_capture_on_commit_callbacks(execute=True):
        created = _post(client, auth, {"format": "csv", "selection": {"hold": hold.pk}})

    job = client.get(created.json()["links"]["self"], **auth).json()
    assert (job["status"], job["progress"]["processed"]) == ("done", 1)


def test_the_download_before_the_package_is_built_is_409_export_not_ready(record, client):
    auth = records_key(record.agency)
    job_id = _post(client, auth, {"format": "csv"}).json()["id"]  # its task never ran

    response = client.get(f"{URL}{job_id}/download", **auth)

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "export_not_ready"
    assert client.get(f"{URL}{job_id}/", **auth).json()["links"]["download"] is None


def test_the_download_of_a_failed_job_is_409_export_failed(record, client):
    with agency_scope(record.agency):
        job = ExportJob.objects.create(
            agency=record.agency, format="pdf", status="failed", error="no fonts"
        )

    response = client.get(f"{URL}{job.pk}/download", **records_key(record.agency))

    assert response.status_code == 409
    assert response.json()["code"] == "export_failed"
    assert "no fonts" in response.json()["detail"]


def test_a_client_asking_for_a_zip_gets_a_problem_it_can_read(record, client):
    auth = records_key(record.agency)
    job_id = _post(client, auth, {"format": "csv"}).json()["id"]

    response = client.get(f"{URL}{job_id}/download", HTTP_ACCEPT="application/zip", **auth)

    assert response.status_code == 409
    assert response.json()["code"] == "export_not_ready"


def test_a_retry_with_the_same_idempotency_key_queues_one_job(record, client):
    auth = records_key(record.agency)
    body = {"format": "mbox", "title": "Matter 9"}

    first = _post(client, auth, body, HTTP_IDEMPOTENCY_KEY="export-9")
    again = _post(client, auth, body, HTTP_IDEMPOTENCY_KEY="export-9")

    assert (first.status_code, again.status_code) == (202, 202)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert len(_jobs(record.agency)) == 1


def test_the_list_is_the_agencys_jobs_newest_first(record, client):
    auth = records_key(record.agency)
    ids = [_post(client, auth, {"format": f}).json()["id"] for f in ("csv", "pdf")]
    with agency_scope(record.other_agency):
        ExportJob.objects.create(agency=record.other_agency, format="csv")

    listed = client.get(URL, **auth).json()["results"]

    assert [row["id"] for row in listed] == ids[::-1]


@pytest.mark.parametrize(
    "body",
    [
        {"format": "exe"},
        {},
        {"format": ["csv"]},
        {"format": "csv", "selection": ["not", "an", "object"]},
        {"format": "csv", "selection": {"since": "not a date"}},
        {"format": "csv", "selection": {"since": "2026-13-45T99:00:00Z"}},
        {"format": "csv", "selection": {"since": "9999-12-31T23:59:59-14:00"}},  # overflows UTC
        {
            "format": "csv",
            "selection": {"since": "2026-03-05T00:00Z", "until": "2026-03-01T00:00Z"},
        },
        {"format": "csv", "selection": {"conversation": -4}},
        {"format": "csv", "selection": {"conversation": 2**70}},
        {"format": "csv", "selection": {"hold": "one"}},
        {"format": "csv", "selection": {"contact": "call me"}},
        {"format": "csv", "selection": {"query": "\x00" * 600}},
        {"format": "csv", "selection": {"query": "x" * 501}},
        {"format": "csv", "bates_start": -1},
        {"format": "csv", "bates_start": 10**12},
        {"format": "csv", "bates_prefix": "A\nB"},
        {"format": "csv", "title": "t" * 201},
        ["format", "csv"],
    ],
    ids=str,
)
def test_bad_input_is_a_400_problem_and_queues_nothing(record, client, body):
    response = _post(client, records_key(record.agency), body)

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"
    assert _jobs(record.agency) == []


def test_a_body_that_is_not_json_is_a_400_problem(record, client):
    response = client.post(
        URL, "{format: csv", content_type="application/json", **records_key(record.agency)
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert _jobs(record.agency) == []


def test_another_agencys_hold_label_number_or_conversation_is_a_400(record, client):
    other = record.other_agency
    with agency_scope(other):
        hold = place_hold(
            other.pk,
            matter_id="THEIRS-1",
            reason="Their litigation",
            owner_id=None,
            selection=Selection(),
            actor=Actor.system("test"),
        )
    theirs = {
        "hold": hold.pk,
        "phone_number": PhoneNumberFactory(agency=other).pk,
        "conversation": ConversationFactory(agency=other).pk,
    }
    auth = records_key(record.agency)

    for name, pk in theirs.items():
        response = _post(client, auth, {"format": "csv", "selection": {name: pk}})

        assert response.status_code == 400, name
        assert [e["pointer"] for e in response.json()["errors"]] == [f"/selection/{name}"]
    assert _jobs(record.agency) == []


def test_another_agencys_job_is_not_found(record, client):
    with agency_scope(record.other_agency):
        theirs = ExportJob.objects.create(
            agency=record.other_agency, format="csv", status="done", storage_key="x"
        )
    auth = records_key(record.agency)

    assert client.get(f"{URL}{theirs.pk}/", **auth).status_code == 404
    assert client.get(f"{URL}{theirs.pk}/download", **auth).status_code == 404
    assert client.get(f"{URL}{2**70}/", **auth).status_code == 404


def test_a_records_officer_signed_in_asks_as_themselves(record, client):
    enroll_totp(record.officer)
    client.force_login(record.officer)

    response = _post(client, {}, {"format": "csv"})

    assert response.status_code == 202, response.content
    (job,) = _jobs(record.agency)
    assert job.requested_by == record.officer


def test_staff_without_manage_records_may_not_export(record, client):
    agent = MembershipFactory(agency=record.agency, role=Role.AGENT).user
    enroll_totp(agent)
    client.force_login(agent)

    assert _post(client, {}, {"format": "csv"}).status_code == 403
    assert client.get(URL).status_code == 403


def test_a_running_job_shows_its_progress(record, client):
    with agency_scope(record.agency):
        job = ExportJob.objects.create(
            agency=record.agency, format="pdf", status="running", total=8, processed=2
        )

    data = client.get(f"{URL}{job.pk}/", **records_key(record.agency)).json()

    assert (data["status"], data["progress"]) == (
        "running",
        {"processed": 2, "total": 8, "percent": 25},
    )
    assert data["links"]["download"] is None


def test_a_package_no_longer_stored_is_410(record, client):
    with agency_scope(record.agency):
        job = ExportJob.objects.create(
            agency=record.agency, format="csv", status="done", storage_key="agencies/x/gone.zip"
        )

    response = client.get(f"{URL}{job.pk}/download", **records_key(record.agency))

    assert response.status_code == 410
    assert response.json()["code"] == "export_package_missing"
