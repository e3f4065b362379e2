"""Template webhooks (message_template_status_update, message_template_quality_update,
template_category_update) update the agency's MessageTemplate and are audited."""

from __future__ import annotations

import pytest

from messaging.models import WebhookEvent
from records.models import AuditEvent
from templates_mgr.models import MessageTemplate
from tenants.scoping import agency_scope
from tests.factories import TemplateFactory, WabaFactory
from tests.messaging.webhooks.account_payloads import (
    ENTRY_TIME,
    template_category,
    template_quality,
    template_status,
)

Status = MessageTemplate.Status
META_ID = 1689556908129835


@pytest.fixture
def waba(agency_a):
    return WabaFactory(agency=agency_a)


def pending(waba, **fields) -> MessageTemplate:
    fields = {"name": "case_update", "status": Status.PENDING, **fields}
    return TemplateFactory(agency=waba.agency, waba=waba, **fields)


def reloaded(template: MessageTemplate) -> MessageTemplate:
    with agency_scope(template.agency_id):
        return MessageTemplate.objects.get(pk=template.pk)


def audit(agency, action: str) -> list[AuditEvent]:
    with agency_scope(agency):
        return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


# --- status -----------------------------------------------------------------------------------


def test_an_approval_approves_the_template_and_keeps_metas_id(ingest, waba):
    template = pending(waba)
    event = ingest(
        template_status(waba.waba_id, "APPROVED", template_id=META_ID, name="case_update")
    )
    assert event.status == WebhookEvent.Status.PROCESSED
    template = reloaded(template)
    assert (template.status, template.meta_template_id) == (Status.APPROVED, str(META_ID))
    [record] = audit(waba.agency, "template.status_changed")
    assert record.object_id == str(template.pk)
    assert record.actor_type == AuditEvent.ActorType.WORKER
    assert record.changes["status"] == [Status.PENDING, Status.APPROVED]
    assert record.changes["meta_template_id"] == ["", str(META_ID)]
    assert record.changes["meta_time"] == ENTRY_TIME


def test_a_rejection_keeps_metas_reason_and_recommendation(ingest, waba):
    template = pending(waba, meta_template_id=str(META_ID))
    info = {"reason": "Adjacent parameters.", "recommendation": "Separate parameters with text."}
    ingest(
        template_status(
            waba.waba_id,
            "REJECTED",
            template_id=META_ID,
            name="case_update",
            reason="INVALID_FORMAT",
            rejection_info=info,
        )
    )
    template = reloaded(template)
    assert template.status == Status.REJECTED
    assert template.rejected_reason == "INVALID_FORMAT"
    assert template.rejection_info == info


def test_an_approval_after_an_edit_clears_the_old_rejection(ingest, waba):
    template = pending(
        waba,
        meta_template_id=str(META_ID),
        rejected_reason="INVALID_FORMAT",
        rejection_info={"reason": "Adjacent parameters."},
    )
    ingest(
        template_status(
            waba.waba_id, "APPROVED", template_id=META_ID, name="case_update", reason=None
        )
    )
    template = reloaded(template)
    assert (template.status, template.rejected_reason, template.rejection_info) == (
        Status.APPROVED,
        "",
        {},
    )


@pytest.mark.parametrize(
    ("event", "before", "after"),
    [
        ("PAUSED", Status.APPROVED, Status.PAUSED),
        ("DISABLED", Status.PAUSED, Status.DISABLED),
        ("REINSTATED", Status.PAUSED, Status.APPROVED),
        ("ARCHIVED", Status.APPROVED, Status.ARCHIVED),
        ("UNARCHIVED", Status.ARCHIVED, Status.APPROVED),
        ("PENDING_DELETION", Status.APPROVED, Status.PENDING_DELETION),
    ],
)
def test_metas_event_words_become_our_statuses(event, before, after, ingest, waba):
    template = pending(waba, status=before, meta_template_id=str(META_ID))
    ingest(template_status(waba.waba_id, event, template_id=META_ID, name="case_update"))
    assert reloaded(template).status == after


def test_unarchived_leaves_a_template_that_was_not_archived_alone(ingest, waba):
    template = pending(waba, status=Status.PAUSED, meta_template_id=str(META_ID))
    ingest(template_status(waba.waba_id, "UNARCHIVED", template_id=META_ID, name="case_update"))
    assert reloaded(template).status == Status.PAUSED
    assert audit(waba.agency, "template.status_changed") == []


def test_an_event_word_we_do_not_know_keeps_the_status(ingest, waba):
    template = pending(waba, status=Status.APPROVED, meta_template_id=str(META_ID))
    event = ingest(
        template_status(waba.waba_id, "SOMETHING_NEW", template_id=META_ID, name="case_update")
    )
    assert event.status == WebhookEvent.Status.PROCESSED
    assert reloaded(template).status == Status.APPROVED
    assert audit(waba.agency, "template.status_changed") == []


@pytest.mark.parametrize(
    ("stored", "sent"), [("en_US", "en-US"), ("en-US", "en_US"), ("pt_BR", "pt-br")]
)
def test_the_language_is_matched_whatever_its_separator(stored, sent, ingest, waba):
    template = pending(waba, language=stored)
    ingest(
        template_status(
            waba.waba_id, "APPROVED", template_id=META_ID, name="case_update", language=sent
        )
    )
    assert reloaded(template).status == Status.APPROVED


def test_another_language_of_the_same_name_is_not_touched(ingest, waba):
    spanish = pending(waba, language="es")
    ingest(template_status(waba.waba_id, "APPROVED", template_id=META_ID, name="case_update"))
    assert reloaded(spanish).status == Status.PENDING


def test_metas_id_finds_the_template_before_its_name(ingest, waba):
    template = pending(waba, name="renamed_here", meta_template_id=str(META_ID))
    ingest(template_status(waba.waba_id, "APPROVED", template_id=META_ID, name="case_update"))
    assert reloaded(template).status == Status.APPROVED


def test_a_row_holding_another_meta_id_is_another_template(ingest, waba):
    """The name was deleted and recreated in WhatsApp Manager: the event is not about ours."""
    ours = pending(waba, meta_template_id="555")
    ingest(template_status(waba.waba_id, "APPROVED", template_id=META_ID, name="case_update"))
    assert reloaded(ours).status == Status.PENDING


def test_a_template_created_in_whatsapp_manager_is_ignored(ingest, waba):
    event = ingest(
        template_status(waba.waba_id, "APPROVED", template_id=META_ID, name="made_in_meta")
    )
    assert event.status == WebhookEvent.Status.PROCESSED
    with agency_scope(waba.agency):
        assert not MessageTemplate.objects.exists()
        assert not AuditEvent.objects.filter(action__startswith="template.").exists()


def test_a_status_update_without_an_event_is_quarantined(ingest, waba):
    payload = template_status(waba.waba_id, "APPROVED", template_id=META_ID, name="case_update")
    del payload["entry"][0]["changes"][0]["value"]["event"]
    event = ingest(payload)
    assert event.status == WebhookEvent.Status.QUARANTINED
    assert event.problems[0]["reason"] == "no event"


def test_the_same_status_update_twice_is_applied_and_audited_once(ingest, waba):
    template = pending(waba)
    payload = template_status(waba.waba_id, "APPROVED", template_id=META_ID, name="case_update")
    ingest(payload)
    ingest(payload)
    assert reloaded(template).status == Status.APPROVED
    assert len(audit(waba.agency, "template.status_changed")) == 1


def test_an_older_status_update_arriving_late_does_not_undo_a_newer_one(ingest, waba):
    template = pending(waba, status=Status.APPROVED, meta_template_id=str(META_ID))
    newer = template_status(
        waba.waba_id, "PAUSED", template_id=META_ID, name="case_update", time=ENTRY_TIME + 60
    )
    older = template_status(waba.waba_id, "REINSTATED", template_id=META_ID, name="case_update")
    ingest(newer)
    ingest(older)
    assert reloaded(template).status == Status.PAUSED


def test_another_agencys_template_of_the_same_name_is_not_touched(ingest, waba, agency_b):
    ours = pending(waba)
    theirs = pending(WabaFactory(agency=agency_b))
    ingest(template_status(waba.waba_id, "REJECTED", template_id=META_ID, name="case_update"))
    assert reloaded(ours).status == Status.REJECTED
    assert reloaded(theirs).status == Status.PENDING
    assert audit(agency_b, "template.status_changed") == []


def test_a_template_of_another_waba_of_the_agency_is_not_touched(ingest, waba, agency_a):
    other = pending(WabaFactory(agency=agency_a))
    ingest(template_status(waba.waba_id, "APPROVED", template_id=META_ID, name="case_update"))
    assert reloaded(other).status == Status.PENDING


# --- quality ------------------------------------------------------------------------------------


def test_a_quality_update_sets_the_score_and_is_audited(ingest, waba):
    template = pending(waba, status=Status.APPROVED, meta_template_id=str(META_ID))
    ingest(template_quality(waba.waba_id, "YELLOW", template_id=META_ID, name="case_update"))
    assert reloaded(template).quality_score == "YELLOW"
    [record] = audit(waba.agency, "template.quality_changed")
    assert record.changes["quality_score"] == ["", "YELLOW"]
    assert record.changes["previous_quality_score"] == "GREEN"


def test_the_same_quality_update_twice_is_audited_once(ingest, waba):
    pending(waba, status=Status.APPROVED, meta_template_id=str(META_ID))
    payload = template_quality(waba.waba_id, "RED", template_id=META_ID, name="case_update")
    ingest(payload)
    ingest(payload)
    assert len(audit(waba.agency, "template.quality_changed")) == 1


# --- category ----------------------------------------------------------------------------------


def test_a_category_update_changes_the_category(ingest, waba):
    template = pending(waba, status=Status.APPROVED, meta_template_id=str(META_ID))
    ingest(
        template_category(
            waba.waba_id,
            template_id=META_ID,
            name="case_update",
            new_category="MARKETING",
            previous_category="UTILITY",
        )
    )
    assert reloaded(template).category == MessageTemplate.Category.MARKETING
    [record] = audit(waba.agency, "template.category_changed")
    assert record.changes["category"] == ["UTILITY", "MARKETING"]


def test_a_category_heads_up_is_audited_once_without_changing_anything(ingest, waba):
    template = pending(waba, status=Status.APPROVED, meta_template_id=str(META_ID))
    payload = template_category(
        waba.waba_id, template_id=META_ID, name="case_update", correct_category="MARKETING"
    )
    ingest(payload)
    ingest(payload)
    assert reloaded(template).category == MessageTemplate.Category.UTILITY
    [record] = audit(waba.agency, "template.category_change_announced")
    assert (record.changes["current_category"], record.changes["correct_category"]) == (
        "UTILITY",
        "MARKETING",
    )
