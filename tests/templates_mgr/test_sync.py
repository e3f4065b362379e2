"""Template sync: every WABA's templates from Meta's list (all pages, through the simulator)
into MessageTemplate, so a missed status webhook heals; a status change is audited and
published as ``template.status``; a second pass changes nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from bsp.celery import app as celery_app
from bsp.events.models import DomainEvent
from records.models import AuditEvent
from templates_mgr import services
from templates_mgr.models import MessageTemplate
from tenants.scoping import agency_scope
from tests.factories import PhoneNumberFactory, TemplateFactory

BODY = [
    {"type": "BODY", "text": "Your case {{1}} was updated.", "example": {"body_text": [["C-1"]]}}
]


@pytest.fixture
def number(agency_a, simulator, settings):
    """Agency A's number and WABA, known to the simulator with the same token."""
    settings.GRAPH_API_BASE_URL = simulator.base_url
    settings.GRAPH_API_VERSION = "v23.0"
    number = PhoneNumberFactory(agency=agency_a)
    simulator.register_number(
        number.phone_number_id,
        display_phone_number="15550100001",
        access_token=number.waba.access_token,
        waba_id=number.waba.waba_id,
    )
    return number


def _sync(number, page_size=2):
    with agency_scope(number.agency_id):
        return services.sync_templates(number.waba_id, page_size=page_size)


def _templates(number):
    with agency_scope(number.agency_id):
        return {
            (t.name, t.language): t for t in MessageTemplate.objects.filter(waba_id=number.waba_id)
        }


def _events(number, type_="template.status"):
    with agency_scope(number.agency_id):
        return list(DomainEvent.objects.filter(type=type_).order_by("sequence"))


def test_every_page_of_the_list_is_imported(number, simulator):
    for i in range(5):
        simulator.add_template(number.waba.waba_id, f"notice_{i}", components=BODY)
    report = _sync(number, page_size=2)  # three pages
    assert (report.listed, report.created) == (5, 5)
    imported = _templates(number)
    assert sorted(name for name, _ in imported) == [f"notice_{i}" for i in range(5)]
    assert {t.status for t in imported.values()} == {"APPROVED"}
    assert all(t.meta_template_id for t in imported.values())


def test_a_missed_status_webhook_heals_and_is_published(number, simulator, agency_a):
    remote = simulator.add_template(number.waba.waba_id, "permit_ready", components=BODY)
    local = TemplateFactory(
        agency=agency_a,
        waba=number.waba,
        name="permit_ready",
        status=MessageTemplate.Status.PENDING,
        meta_template_id=remote["id"],
    )
    report = _sync(number)
    assert report.status_changed == 1
    with agency_scope(agency_a):
        assert MessageTemplate.objects.get(pk=local.pk).status == "APPROVED"
        audit = AuditEvent.objects.get(action="template.status_changed")
    assert audit.changes["status"] == ["PENDING", "APPROVED"]
    [event] = _events(number)
    assert event.subject == {"template": local.pk, "waba": number.waba_id}
    assert (event.payload["status"], event.payload["previous_status"]) == ("APPROVED", "PENDING")
    assert event.payload["source"] == "sync"


def test_a_rejection_brings_meta_s_reason(number, simulator, agency_a):
    remote = simulator.add_template(number.waba.waba_id, "permit_ready", components=BODY)
    simulator.set_template_status(remote["id"], "REJECTED", "INVALID_FORMAT")
    TemplateFactory(
        agency=agency_a,
        waba=number.waba,
        name="permit_ready",
        status="PENDING",
        meta_template_id="",
    )
    _sync(number)
    stored = _templates(number)[("permit_ready", "en_US")]
    assert (stored.status, stored.rejected_reason) == ("REJECTED", "INVALID_FORMAT")
    assert stored.meta_template_id == remote["id"]  # matched by name + language, id kept


def test_languages_match_whatever_their_spelling(number, simulator, agency_a):
    simulator.add_template(number.waba.waba_id, "permit_ready", language="en_US", components=BODY)
    local = TemplateFactory(
        agency=agency_a, waba=number.waba, name="permit_ready", language="en-us", status="PENDING"
    )
    report = _sync(number)
    assert report.created == 0
    with agency_scope(agency_a):
        assert MessageTemplate.objects.get(pk=local.pk).status == "APPROVED"


def test_a_submitted_template_meta_no_longer_lists_is_deleted_and_a_draft_is_kept(number, agency_a):
    gone = TemplateFactory(agency=agency_a, waba=number.waba, meta_template_id="987654321012345")
    draft = TemplateFactory(agency=agency_a, waba=number.waba, status="DRAFT")
    report = _sync(number)
    assert report.deleted == 1
    with agency_scope(agency_a):
        assert MessageTemplate.objects.get(pk=gone.pk).status == "DELETED"
        assert MessageTemplate.objects.get(pk=draft.pk).status == "DRAFT"


def test_a_second_pass_writes_and_publishes_nothing(number, simulator):
    remote = simulator.add_template(number.waba.waba_id, "permit_ready", components=BODY)
    _sync(number)
    simulator.set_template_status(remote["id"], "PAUSED")
    _sync(number)
    with agency_scope(number.agency_id):
        audits = AuditEvent.objects.filter(object_type="templates_mgr.messagetemplate").count()
    events = len(_events(number))
    report = _sync(number)
    assert (report.created, report.updated, report.deleted) == (0, 0, 0)
    with agency_scope(number.agency_id):
        assert (
            AuditEvent.objects.filter(object_type="templates_mgr.messagetemplate").count() == audits
        )
    assert len(_events(number)) == events == 1


def test_a_waba_whose_token_meta_refuses_is_reported_and_left_alone(number, simulator, agency_a):
    kept = TemplateFactory(agency=agency_a, waba=number.waba, meta_template_id="987654321012345")
    simulator.register_number(number.phone_number_id, token_revoked=True)
    report = _sync(number)
    assert report.failed_wabas == [number.waba.waba_id]
    with agency_scope(agency_a):
        assert MessageTemplate.objects.get(pk=kept.pk).status == "APPROVED"


def test_the_command_syncs_every_waba(number, simulator, capsys):
    for i in range(3):
        simulator.add_template(number.waba.waba_id, f"notice_{i}", components=BODY)
    call_command("sync_templates", "--page-size", "2")
    assert "3 listed: 3 added" in capsys.readouterr().out
    assert len(_templates(number)) == 3


def test_the_beat_entry_runs_a_task_that_heals_templates(number, simulator, agency_a):
    remote = simulator.add_template(number.waba.waba_id, "permit_ready", components=BODY)
    local = TemplateFactory(
        agency=agency_a, waba=number.waba, status="PENDING", meta_template_id=remote["id"]
    )
    entry = celery_app.conf.beat_schedule["templates_mgr.sync_templates"]
    celery_app.loader.import_default_modules()  # what a worker does at start
    celery_app.tasks[entry["task"]].apply()
    with agency_scope(agency_a):
        assert MessageTemplate.objects.get(pk=local.pk).status == "APPROVED"


def test_a_category_change_found_by_the_sync_is_published_like_a_webhook_s(
    number, simulator, agency_a
):
    remote = simulator.add_template(
        number.waba.waba_id, "permit_ready", components=BODY, category="MARKETING"
    )
    local = TemplateFactory(
        agency=agency_a,
        waba=number.waba,
        name="permit_ready",
        status="APPROVED",
        category="UTILITY",
        quality_score="GREEN",  # as the simulator rates it
        meta_template_id=remote["id"],
    )
    _sync(number)
    [event] = _events(number)
    assert event.subject == {"template": local.pk, "waba": number.waba_id}
    assert event.payload["changed"] == {"category": ["UTILITY", "MARKETING"]}
    assert (event.payload["status"], event.payload["previous_status"]) == ("APPROVED", "APPROVED")
