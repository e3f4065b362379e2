"""The staff pages: the directory, a contact's history and its export, topics (admins
manage, supervisors read), imports (upload → preview → commit → report)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from messaging.consent import tasks
from messaging.consent.models import ConsentImport, ConsentTopic, ImportRow
from messaging.models import Consent
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.consent.factories import TopicFactory
from tests.factories import ConsentFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_the_directory_searches_by_name_and_phone(admin_client, agency_a):
    ContactFactory(agency=agency_a, profile_name="Ana Ruiz", wa_id="12025550101")
    ContactFactory(agency=agency_a, profile_name="Ben Cole", wa_id="12025550102")
    by_name = admin_client.get(reverse("contacts:directory"), {"q": "ruiz"})
    by_phone = admin_client.get(reverse("contacts:directory"), {"q": "(202) 555-0102"})
    assert b"Ana Ruiz" in by_name.content and b"Ben Cole" not in by_name.content
    assert b"Ben Cole" in by_phone.content and b"Ana Ruiz" not in by_phone.content


def test_the_directory_filters_by_consent_state_and_topic(admin_client, agency_a):
    TopicFactory(agency=agency_a, slug="alerts", name="Alerts")
    subscribed = ContactFactory(agency=agency_a, profile_name="Subscribed")
    ConsentFactory(agency=agency_a, contact=subscribed, topic="alerts")
    ContactFactory(agency=agency_a, profile_name="Never asked")
    response = admin_client.get(
        reverse("contacts:directory"), {"state": "opted_in", "topic": "alerts"}
    )
    assert b"Subscribed" in response.content and b"Never asked" not in response.content


def test_the_directory_pages_by_keyset(admin_client, agency_a):
    made = [ContactFactory(agency=agency_a, profile_name=f"Person {n:03d}") for n in range(55)]
    first = admin_client.get(reverse("contacts:directory"))
    assert first.context["page"].next_after == made[5].pk
    second = admin_client.get(reverse("contacts:directory"), {"after": made[5].pk})
    assert [c.pk for c in second.context["page"].contacts] == [c.pk for c in made[4::-1]]
    assert second.context["page"].next_after is None


def test_the_contact_page_shows_the_history_with_source_actor_and_evidence(
    admin_client, agency_a, admin_a
):
    contact = ContactFactory(agency=agency_a)
    ConsentFactory(
        agency=agency_a,
        contact=contact,
        source=Consent.Source.PAPER,
        recorded_by=admin_a.user,
        evidence={"staff_name": "R. Díaz"},
    )
    response = admin_client.get(reverse("contacts:contact", args=[contact.pk]))
    body = response.content.decode()
    assert "Paper form (recorded by staff)" in body
    assert admin_a.user.email in body
    assert "R. Díaz" in body


def test_the_history_exports_as_csv_and_json(admin_client, agency_a):
    contact = ContactFactory(agency=agency_a)
    ConsentFactory(agency=agency_a, contact=contact, evidence={"form": "F-1"})
    ConsentFactory(agency=agency_a, contact=contact, status=Consent.Status.OPTED_OUT)
    as_json = admin_client.get(reverse("contacts:export_json", args=[contact.pk]))
    as_csv = admin_client.get(reverse("contacts:export_csv", args=[contact.pk]))
    history = json.loads(as_json.content)["history"]
    assert [h["status"] for h in history] == ["opted_in", "opted_out"]  # oldest first
    assert history[0]["evidence"] == {"form": "F-1"}
    assert "attachment" in as_csv["Content-Disposition"]
    assert as_csv.content.decode().count("\n") == 3


def test_staff_must_name_themselves_and_the_source(admin_client, agency_a):
    contact = ContactFactory(agency=agency_a)
    response = admin_client.post(
        reverse("contacts:record", args=[contact.pk]), {"status": "opted_in"}
    )
    assert response.status_code == 400
    with agency_scope(agency_a):
        assert not Consent.objects.filter(contact=contact).exists()


def test_admins_create_topics_and_supervisors_only_read(
    admin_client, agency_a, client_for, make_member
):
    response = admin_client.post(
        reverse("contacts:topic_create"),
        {"slug": "alerts", "name": "Emergency alerts", "wording": "I agree.", "keywords": "alerts"},
    )
    assert response.status_code == 302
    with agency_scope(agency_a):
        topic = ConsentTopic.objects.get(slug="alerts")
    assert topic.keywords == ["ALERTS"]
    supervisor = client_for(make_member(Role.SUPERVISOR))
    assert supervisor.get(reverse("contacts:topics")).status_code == 200
    assert supervisor.get(reverse("contacts:topic_create")).status_code == 403
    assert supervisor.get(reverse("contacts:topic_edit", args=[topic.pk])).status_code == 403
    assert supervisor.get(reverse("contacts:imports")).status_code == 403


def test_a_topic_keyword_may_not_be_a_standard_keyword(admin_client):
    response = admin_client.post(
        reverse("contacts:topic_create"),
        {"slug": "x", "name": "X", "wording": "I agree.", "keywords": "STOP"},
    )
    assert response.status_code == 200
    assert "standard keyword" in response.content.decode()


def test_agents_do_not_see_contacts(agent_client):
    assert agent_client.get(reverse("contacts:directory")).status_code == 403


def test_a_records_officer_exports_a_consent_history_but_records_no_consent(
    client_for, make_member, agency_a
):
    """Consent histories answer records requests: the records officer reads and exports them,
    and changes nothing."""
    contact = ContactFactory(agency=agency_a)
    ConsentFactory(agency=agency_a, contact=contact)
    officer = client_for(make_member(Role.RECORDS_OFFICER))
    assert officer.get(reverse("contacts:contact", args=[contact.pk])).status_code == 200
    exported = officer.get(reverse("contacts:export_csv", args=[contact.pk]))
    assert exported.status_code == 200
    assert contact.wa_id in exported.content.decode()
    assert officer.get(reverse("contacts:imports")).status_code == 403


def test_upload_preview_commit_and_report(
    admin_client, agency_a, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(
        "messaging.consent.tasks.queue", lambda task, **kw: queued.append((task.name, kw))
    )
    upload = SimpleUploadedFile("list.csv", b"phone,name\n(202) 555-0101,Ana\nbad,B\n")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("contacts:imports"), {"file": upload, "topic": ""})
    assert response.status_code == 302
    with agency_scope(agency_a):
        consent_import = ConsentImport.objects.get()
    ids = {"import_id": consent_import.pk, "agency_id": agency_a.pk}
    assert queued == [("consent.preview_import", ids)]
    reading = admin_client.get(reverse("contacts:import", args=[consent_import.pk]))
    assert "Reading the file" in reading.content.decode()
    tasks.preview_import(import_id=consent_import.pk, agency_id=agency_a.pk)
    polled = admin_client.get(
        reverse("contacts:import_progress", args=[consent_import.pk]), {"shown": "reading"}
    )
    assert polled["HX-Refresh"] == "true"  # the preview replaces the whole page
    page = admin_client.get(reverse("contacts:import", args=[consent_import.pk]))
    assert "nothing has been recorded yet" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("contacts:import_commit", args=[consent_import.pk]))
    assert queued[1:] == [("consent.commit_import", ids)]
    tasks.commit_import(import_id=consent_import.pk, agency_id=agency_a.pk)
    progress = admin_client.get(reverse("contacts:import_progress", args=[consent_import.pk]))
    assert "What the import did" in progress.content.decode()
    assert not progress.has_header("HX-Refresh")
    report = admin_client.get(reverse("contacts:import_report", args=[consent_import.pk]))
    last = report.content.decode().splitlines()[2]
    assert last.endswith("Not a valid phone number,Not a valid number (read in US).")


def test_an_unreadable_upload_is_refused_and_stores_nothing(admin_client, agency_a):
    upload = SimpleUploadedFile("list.csv", b"email\nx@example.gov\n")
    response = admin_client.post(reverse("contacts:imports"), {"file": upload})
    assert response.status_code == 400
    assert "nothing was changed" in response.content.decode()
    with agency_scope(agency_a):
        assert not ConsentImport.objects.exists()


def test_a_lost_preview_task_can_be_queued_again_and_reads_once(
    admin_client, agency_a, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(
        "messaging.consent.tasks.queue", lambda task, **kw: queued.append((task.name, kw))
    )
    upload = SimpleUploadedFile("list.csv", b"phone\n(202) 555-0101\n")
    admin_client.post(reverse("contacts:imports"), {"file": upload})  # its task is lost
    with agency_scope(agency_a):
        consent_import = ConsentImport.objects.get()
    url = reverse("contacts:import_reread", args=[consent_import.pk])
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url)
    ids = {"import_id": consent_import.pk, "agency_id": agency_a.pk}
    assert queued == [("consent.preview_import", ids)]
    tasks.preview_import(**ids)
    tasks.preview_import(**ids)  # the lost one, delivered late
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url)  # read by now: nothing is queued
    assert len(queued) == 1
    with agency_scope(agency_a):
        assert ImportRow.objects.filter(consent_import=consent_import).count() == 1
