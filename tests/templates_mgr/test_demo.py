"""The demo's template library (``templates_mgr.demo``): seeded once, through the services
and the webhook handlers, in every state an admin meets; its approved templates are sendable
through the send policy and accepted by the simulator started with the platform's templates;
and that simulator's listing leaves the rows as they are when the hourly sync runs."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from bsp.events.models import DomainEvent
from messaging import delivery
from messaging import services as messaging_services
from messaging.policy import Rule, SendRefused
from records.audit import Actor
from records.models import AuditEvent
from templates_mgr import demo, selectors, services
from templates_mgr.models import MessageTemplate, TemplateVersion
from templates_mgr.preview import build_template_message, sample_values
from tenants.scoping import agency_scope
from tests.factories import ConsentFactory, ContactFactory

Status = MessageTemplate.Status
ACTOR = Actor.system("seed_demo")
CITIZEN = "14155550100"


def _seed(agency) -> None:
    with agency_scope(agency), transaction.atomic():  # as seed_demo calls it
        demo.seed_demo_templates(agency, ACTOR)


def _rows(agency) -> dict[tuple[str, str], MessageTemplate]:
    with agency_scope(agency):
        return {(t.name, t.language): t for t in MessageTemplate.objects.all()}


def _snapshot(agency) -> dict[str, Any]:
    with agency_scope(agency):
        return {
            "templates": sorted(
                MessageTemplate.objects.values_list(
                    "pk", "status", "quality_score", "components", "updated_at"
                )
            ),
            "versions": TemplateVersion.objects.count(),
            "audit": AuditEvent.objects.count(),
            "events": DomainEvent.objects.count(),
        }


def test_seeding_twice_changes_nothing(agency_a, number):
    _seed(agency_a)
    first = _snapshot(agency_a)
    _seed(agency_a)
    assert _snapshot(agency_a) == first
    assert len(first["templates"]) == 9


def test_a_template_the_admin_deleted_is_not_brought_back(agency_a, number):
    _seed(agency_a)
    draft = _rows(agency_a)[("community_newsletter", "es")]
    services.delete_template(actor=ACTOR, template=draft)  # never submitted: removed
    _seed(agency_a)
    assert ("community_newsletter", "es") not in _rows(agency_a)


def test_the_library_holds_every_state_in_both_languages(agency_a, number):
    _seed(agency_a)
    rows = _rows(agency_a)
    assert {key: t.status for key, t in rows.items()} == {
        ("appointment_reminder", "en_US"): Status.APPROVED,
        ("appointment_reminder", "es"): Status.APPROVED,
        ("permit_ready", "en_US"): Status.APPROVED,
        ("permit_ready", "es"): Status.PENDING,
        ("emergency_alert", "en_US"): Status.APPROVED,
        ("emergency_alert", "es"): Status.APPROVED,
        ("community_newsletter", "en_US"): Status.PAUSED,
        ("community_newsletter", "es"): Status.DRAFT,
        ("property_tax_discount", "en_US"): Status.REJECTED,
    }
    rejected = rows[("property_tax_discount", "en_US")]
    assert rejected.rejected_reason == "INCORRECT_CATEGORY"
    assert rejected.rejection_info["recommendation"].startswith("Submit it again")
    assert rows[("community_newsletter", "en_US")].quality_score == "RED"
    assert rows[("appointment_reminder", "en_US")].parameter_format == "NAMED"
    assert rows[("community_newsletter", "en_US")].category == "MARKETING"
    assert all(t.meta_template_id.isdigit() for t in rows.values() if t.status != Status.DRAFT)


def test_each_translation_has_the_history_the_services_write(agency_a, number):
    _seed(agency_a)
    rows = _rows(agency_a)
    with agency_scope(agency_a):
        actions = {
            key: [v.action for v in reversed(selectors.versions(t))] for key, t in rows.items()
        }
        alert = rows[("emergency_alert", "en_US")]
        pending = selectors.pending_edit(alert)
        next_submission = selectors.current_draft(alert)
    assert actions[("permit_ready", "en_US")] == ["saved", "submitted"]
    assert actions[("community_newsletter", "es")] == ["saved"]
    assert actions[("emergency_alert", "en_US")] == ["saved", "submitted", "saved"]
    # The edit waits for a submission; citizens still get the approved text.
    assert pending is not None and "local radio" in pending.components[1]["text"]
    assert "local radio" not in alert.components[1]["text"]
    assert "local radio" in (next_submission.body or {})["text"]


def test_every_status_change_is_an_event_on_the_stream_from_its_source(agency_a, number):
    _seed(agency_a)
    newsletter = _rows(agency_a)[("community_newsletter", "en_US")]
    with agency_scope(agency_a):
        events = [
            e.payload
            for e in DomainEvent.objects.filter(type="template.status").order_by("sequence")
            if e.subject["template"] == newsletter.pk
        ]
    assert [(e["status"], e["quality_score"], e["source"]) for e in events] == [
        ("PENDING", "", "submission"),
        ("APPROVED", "", "webhook"),
        ("APPROVED", "YELLOW", "webhook"),
        ("APPROVED", "RED", "webhook"),
        ("PAUSED", "RED", "webhook"),
    ]
    with agency_scope(agency_a):
        audited = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"template.draft_created", "template.submitted", "template.status_changed"} <= audited
    assert "template.quality_changed" in audited and "template.edit_saved" in audited


@pytest.fixture
def demo_simulator(agency_a, registered_number, simulator):
    """The simulator as run_simulator starts it in the demo: with the platform's templates."""
    _seed(agency_a)
    for record in demo.simulator_templates():
        simulator.add_template(**record)
    return simulator


def test_the_seeded_approved_templates_are_sent_and_accepted_by_meta(
    agency_a, registered_number, demo_simulator
):
    contact = ContactFactory(agency=agency_a, wa_id=CITIZEN, phone_e164=f"+{CITIZEN}")
    ConsentFactory(agency=agency_a, contact=contact)
    approved = [t for t in _rows(agency_a).values() if t.status == Status.APPROVED]
    assert len(approved) == 5
    sender = messaging_services.Sender.system("test")
    for template in approved:
        message = build_template_message(template, sample_values(template))
        row = messaging_services.send_message(  # the send policy runs here
            agency=agency_a, sender=sender, to=CITIZEN, message=message
        )
        with agency_scope(agency_a):
            assert delivery.deliver(row.pk) == "accepted", template
    sent = demo_simulator.messages(registered_number.phone_number_id)
    assert len(sent) == 5
    assert any("Riverside and Oak Park" in (m["rendered_text"] or "") for m in sent)


def test_the_paused_and_pending_ones_are_refused_by_the_policy(agency_a, registered_number):
    _seed(agency_a)
    contact = ContactFactory(agency=agency_a, wa_id=CITIZEN, phone_e164=f"+{CITIZEN}")
    ConsentFactory(agency=agency_a, contact=contact)
    rows = _rows(agency_a)
    sender = messaging_services.Sender.system("test")
    for key in [("community_newsletter", "en_US"), ("permit_ready", "es")]:
        values = {**sample_values(rows[key]), "header_media": "https://demo-county.gov/june.jpg"}
        message = build_template_message(rows[key], values)
        with pytest.raises(SendRefused) as refused:
            messaging_services.send_message(
                agency=agency_a, sender=sender, to=CITIZEN, message=message
            )
        assert refused.value.rule == Rule.TEMPLATE_NOT_APPROVED


def test_the_sync_against_the_demos_simulator_changes_no_status(
    agency_a, registered_number, demo_simulator
):
    before = {key: (t.status, t.rejected_reason) for key, t in _rows(agency_a).items()}
    with agency_scope(agency_a):  # as sync_all_templates runs it
        report = services.sync_templates(registered_number.waba.pk)
    assert (report.listed, report.deleted, report.status_changed, report.created) == (8, 0, 0, 0)
    after = {key: (t.status, t.rejected_reason) for key, t in _rows(agency_a).items()}
    assert after == before


def test_the_reminders_alerts_and_newsletter_go_to_their_opt_in_topics(agency_a, number):
    # The topics the consent demo seeds (messaging/consent/demo.py).
    _seed(agency_a)
    topics = {key: t.topic for key, t in _rows(agency_a).items()}
    assert topics[("appointment_reminder", "es")] == "appointments"
    assert topics[("emergency_alert", "en_US")] == "alerts"
    assert topics[("community_newsletter", "en_US")] == "news"
    assert topics[("permit_ready", "en_US")] == ""  # any opted-in citizen
