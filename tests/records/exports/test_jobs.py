"""Export jobs in the UI: a records officer chooses records and a format, the Celery job
builds the package with its progress on the row and the stream, and the download is the
signed package; other roles and other agencies see nothing; bad input is a 400."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import pytest
from django.db import connection

from bsp.celery import app as celery_app
from bsp.events.models import DomainEvent
from records.exports import services
from records.exports.models import ExportJob
from records.exports.verify import trusted_keys, verify_package
from records.models import AuditEvent
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import MembershipFactory
from tests.frontend.conftest import enroll_totp

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager() -> Iterator[None]:
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = False


@pytest.fixture
def officer_client(record, client):
    enroll_totp(record.officer)
    client.force_login(record.officer)
    return client


def _post(client, **fields):
    data = {"format": "jsonl", "bates_start": "1", **fields}
    return client.post("/records/exports/", data)


def test_an_officer_exports_and_downloads_the_signed_package(
    record, officer_client, eager, django_capture_on_commit_callbacks, tmp_path
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            officer_client, contact="+1 415 555 0100", title="Matter 7", bates_prefix="M7-"
        )

    with agency_scope(record.agency):
        job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/records/exports/{job.pk}/"
    assert job.status == ExportJob.Status.DONE
    assert (job.total, job.processed) == (6, 6)
    assert (job.bates_first, job.bates_last) == ("M7-0000001", "M7-0000006")

    page = officer_client.get(f"/records/exports/{job.pk}/")
    assert b"Download the package" in page.content
    download = officer_client.get(f"/records/exports/{job.pk}/download/")
    assert download.status_code == 200
    archive = tmp_path / "package.zip"
    archive.write_bytes(b"".join(download.streaming_content))
    assert verify_package(archive, trusted_keys()).ok
    assert (
        zipfile.ZipFile(io.BytesIO(archive.read_bytes())).namelist()[0].startswith(job.package_name)
    )

    with agency_scope(record.agency):
        actions = list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True))
        statuses = [
            e.payload["status"]
            for e in DomainEvent.objects.filter(type="export.changed").order_by("pk")
        ]
    assert actions[-3:] == [
        "records.export_requested",
        "records.export_built",
        "records.export_downloaded",
    ]
    assert statuses == ["queued", "running", "built", "done"]


def test_progress_is_on_the_row_and_the_stream(record, monkeypatch):
    monkeypatch.setattr(services, "PROGRESS_EVERY", 2)
    with agency_scope(record.agency):
        job = ExportJob.objects.create(agency=record.agency, format="csv", selection={})

    services.run_export_job(job.pk)

    with agency_scope(record.agency):
        progress = [
            e.payload for e in DomainEvent.objects.filter(type="export.progress").order_by("pk")
        ]
    assert progress == [
        {"processed": 2, "total": 6},
        {"processed": 4, "total": 6},
        {"processed": 6, "total": 6},
    ]


def test_the_task_is_idempotent(record):
    with agency_scope(record.agency):
        job = ExportJob.objects.create(agency=record.agency, format="csv", selection={})
    done = services.run_export_job(job.pk)
    again = services.run_export_job(job.pk)

    assert done is not None and again is not None
    assert again.finished_at == done.finished_at
    with agency_scope(record.agency):
        assert AuditEvent.objects.filter(action="records.export_built").count() == 1


def test_a_failed_build_says_why(record, settings, tmp_path):
    settings.RECORDS_EXPORT_FONT_DIR = str(tmp_path / "no-fonts")
    with agency_scope(record.agency):
        job = ExportJob.objects.create(agency=record.agency, format="pdf", selection={})

    with pytest.raises(Exception, match=r"PDF exports need DejaVuSans\.ttf"):
        services.run_export_job(job.pk)

    with agency_scope(record.agency):
        job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED
    assert "apt-get install fonts-dejavu-core" in job.error


def test_only_records_officers_see_the_pages(record, client):
    agent = MembershipFactory(agency=record.agency, role=Role.AGENT).user
    client.force_login(agent)

    assert client.get("/records/exports/").status_code == 403


def test_another_agencys_job_is_not_found_and_not_readable(record, officer_client):
    with agency_scope(record.other_agency):
        theirs = ExportJob.objects.create(agency=record.other_agency, format="csv", selection={})

    assert officer_client.get(f"/records/exports/{theirs.pk}/").status_code == 404
    assert officer_client.get(f"/records/exports/{theirs.pk}/download/").status_code == 404
    with agency_scope(record.agency), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM records_exportjob")
        assert cursor.fetchone() == (0,)  # row-level security, below the ORM


@pytest.mark.parametrize(
    "fields",
    [
        {"format": "exe"},
        {"since": "2026-03-05", "until": "2026-03-01"},
        {"since": "not a date"},
        {"conversation": "-4"},
        {"bates_start": "-1"},
        {"query": "\x00" * 600},
        {"bates_prefix": "A\nB"},
    ],
)
def test_bad_input_is_explained_not_a_500(record, officer_client, fields):
    response = _post(officer_client, **fields)

    assert response.status_code == 400
    with agency_scope(record.agency):
        assert not ExportJob.objects.exists()


def test_a_hostile_query_still_builds(
    record, officer_client, eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _post(officer_client, query='"unbalanced -or ( \\ ; DROP TABLE')

    with agency_scope(record.agency):
        job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.DONE
    assert job.processed == 0


def test_an_officer_exports_what_a_legal_hold_holds(
    record, officer_client, eager, django_capture_on_commit_callbacks
):
    from records.audit import Actor
    from records.holds.services import place_hold
    from records.selection import Selection

    with agency_scope(record.agency):
        hold = place_hold(
            record.agency.pk,
            matter_id="LIT-2026-014",
            reason="Litigation",
            owner_id=None,
            selection=Selection(message_ids=(record.messages["hello"].pk,)),
            actor=Actor.system("test"),
        )
    form_page = officer_client.get("/records/exports/")
    assert b"LIT-2026-014 (open)" in form_page.content

    with django_capture_on_commit_callbacks(execute=True):
        _post(officer_client, hold=str(hold.pk))

    with agency_scope(record.agency):
        job = ExportJob.objects.get()
    assert job.selection == {"hold_id": hold.pk}
    assert (job.status, job.total) == (ExportJob.Status.DONE, 1)
