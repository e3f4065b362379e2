"""The editor's writes against the simulator: drafts and versions, submission (invalid,
pre-screen blocked or overridden with a justification, Meta's refusals, edits under Meta's
rules), deletion (warning about campaigns), banned terms. Each write is audited and on the
event stream."""

from __future__ import annotations

import pytest

from bsp.events.models import DomainEvent
from messaging.campaigns.models import Campaign
from records.models import AuditEvent
from templates_mgr import selectors, services
from templates_mgr.models import MessageTemplate, TemplateVersion
from tenants.scoping import agency_scope
from tenants.services import ApplicationError
from tests.factories import AgencyFactory, WabaFactory
from tests.templates_mgr.factories import named_draft, utility_draft

Status = MessageTemplate.Status


@pytest.fixture(autouse=True)
def _slow_review(simulator):
    """Meta's review does not decide during these tests (they look at PENDING)."""
    simulator.configure(template_review={"auto": False})


def _save(actor, number, draft=None, template=None):
    return services.save_draft(
        actor=actor,
        agency=number.agency,
        waba=number.waba,
        draft=draft or utility_draft(),
        template=template,
    )


def _reload(template):
    with agency_scope(template.agency_id):
        return MessageTemplate.objects.get(pk=template.pk)


def _audit(agency, action):
    with agency_scope(agency):
        return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


def _events(agency, type_):
    with agency_scope(agency):
        return list(DomainEvent.objects.filter(type=type_).order_by("sequence"))


def _versions(template):
    with agency_scope(template.agency_id):
        return selectors.versions(template)


# ---- drafts and versions --------------------------------------------------------------------


def test_saving_a_draft_creates_a_draft_template_with_its_first_version(
    agency_a, number, admin_actor
):
    template = _save(admin_actor, number)
    assert (template.status, template.name, template.language) == (
        Status.DRAFT,
        "permit_ready",
        "en_US",
    )
    [version] = _versions(template)
    assert (version.number, version.action, version.actor_label) == (
        1,
        "saved",
        "admin@example.gov",
    )
    assert _audit(agency_a, "template.draft_created")
    [event] = _events(agency_a, "template.changed")
    assert event.payload["action"] == "created"


def test_saving_a_draft_again_adds_a_version_and_keeps_the_first(agency_a, number, admin_actor):
    template = _save(admin_actor, number)
    changed = utility_draft(footer_text="Springfield permits office")
    _save(admin_actor, number, changed, template)
    first, second = sorted(_versions(template), key=lambda v: v.number)
    assert first.components != second.components
    assert _reload(template).components == list(changed.components)
    assert _audit(agency_a, "template.draft_saved")[0].changes["changed"] == ["footer"]


def test_a_second_template_with_the_same_name_and_language_is_refused(number, admin_actor):
    _save(admin_actor, number)
    with pytest.raises(services.TemplateError, match="already has a template"):
        _save(admin_actor, number)


def test_the_same_name_in_another_language_is_a_translation(number, admin_actor):
    _save(admin_actor, number)
    spanish = utility_draft(
        language="es", body_text="Hola {{1}}, su permiso {{2}} está listo en la alcaldía."
    )
    _save(admin_actor, number, spanish)
    with agency_scope(number.agency_id):
        [entry] = selectors.library(number.agency)
    assert entry.languages == ["en_US", "es"]


def test_validate_draft_adds_the_name_being_taken(number, admin_actor):
    _save(admin_actor, number)
    with agency_scope(number.agency_id):
        violations = services.validate_draft(utility_draft(), waba=number.waba)
    assert [(v.field, v.code) for v in violations] == [("name", "name_taken")]


def test_a_suspended_agency_cannot_save(number, admin_actor):
    number.agency.status = "suspended"
    number.agency.save()
    with pytest.raises(ApplicationError):
        _save(admin_actor, number)


def test_another_agencys_waba_is_not_found(number, admin_actor):
    other = WabaFactory(agency=AgencyFactory())
    with pytest.raises(Exception, match="does not exist"):
        services.save_draft(
            actor=admin_actor, agency=number.agency, waba=other, draft=utility_draft()
        )


# ---- submission -----------------------------------------------------------------------------


def test_submitting_sends_the_create_request_and_the_template_is_pending(
    agency_a, registered_number, simulator, admin_actor
):
    template = _save(admin_actor, registered_number)
    submitted = services.submit_template(actor=admin_actor, template=template)
    assert submitted.status == Status.PENDING and submitted.meta_template_id
    [remote] = simulator._call("GET", "/_sim/templates")["data"]
    assert (remote["id"], remote["name"], remote["status"]) == (
        submitted.meta_template_id,
        "permit_ready",
        "PENDING",
    )
    versions = sorted(_versions(template), key=lambda v: v.number)
    assert versions[-1].action == "submitted"
    assert versions[-1].meta_response["id"] == submitted.meta_template_id
    [event] = _events(agency_a, "template.status")
    assert (event.payload["previous_status"], event.payload["status"]) == ("DRAFT", "PENDING")
    assert event.payload["source"] == "submission"


def test_an_invalid_draft_is_not_submitted_and_names_its_fields(
    registered_number, simulator, admin_actor
):
    template = _save(admin_actor, registered_number, utility_draft(body_examples=[]))
    with pytest.raises(services.TemplateInvalid) as refused:
        services.submit_template(actor=admin_actor, template=template)
    assert [v.field for v in refused.value.violations] == ["body.example"]
    assert simulator._call("GET", "/_sim/templates")["data"] == []


def test_prescreen_findings_block_a_submission_without_a_justification(
    registered_number, simulator, admin_actor
):
    draft = utility_draft(body_text="Hello {{1}}, the county lottery {{2}} results are out.")
    template = _save(admin_actor, registered_number, draft)
    with pytest.raises(services.PrescreenBlocked) as blocked:
        services.submit_template(actor=admin_actor, template=template, justification="  ")
    assert [f.category for f in blocked.value.findings] == ["lottery_gambling"]
    assert _reload(template).status == Status.DRAFT


def test_a_justification_overrides_the_prescreen_and_is_audited_with_the_findings(
    agency_a, registered_number, admin_actor
):
    draft = utility_draft(body_text="Hello {{1}}, the county lottery {{2}} results are out.")
    template = _save(admin_actor, registered_number, draft)
    why = "State lottery commission notice, approved by counsel."
    services.submit_template(actor=admin_actor, template=template, justification=why)
    [override] = _audit(agency_a, "template.prescreen_overridden")
    assert override.changes["justification"] == why
    assert override.changes["findings"][0]["category"] == "lottery_gambling"
    assert _reload(template).status == Status.PENDING


def test_metas_refusal_is_a_clear_error_and_kept_as_a_version(
    agency_a, registered_number, simulator, admin_actor
):
    simulator.configure(limits={"max_templates_per_waba": 0})
    template = _save(admin_actor, registered_number)
    with pytest.raises(services.SubmissionFailed, match="Message template limit exceeded"):
        services.submit_template(actor=admin_actor, template=template)
    assert _reload(template).status == Status.DRAFT
    latest = max(_versions(template), key=lambda v: v.number)
    assert latest.action == "submit_failed"
    assert latest.meta_response["error"]["code"] == 100
    assert _audit(agency_a, "template.submit_failed")


def test_a_pending_template_cannot_be_submitted_twice(registered_number, admin_actor):
    template = _save(admin_actor, registered_number)
    services.submit_template(actor=admin_actor, template=template)
    with pytest.raises(services.TemplateError, match="Try again once Meta has decided"):
        services.submit_template(actor=admin_actor, template=template)


def test_editing_an_approved_template_saves_a_pending_edit_then_submits_it(
    agency_a, registered_number, simulator, admin_actor
):
    template = _save(admin_actor, registered_number)
    template = services.submit_template(actor=admin_actor, template=template)
    simulator.set_template_status(template.meta_template_id, "APPROVED")
    with agency_scope(agency_a):
        MessageTemplate.objects.filter(pk=template.pk).update(status=Status.APPROVED)
    edited = utility_draft(footer_text="Springfield permits office")
    _save(admin_actor, registered_number, edited, _reload(template))
    # Until submitted, sends still match Meta's approved copy.
    assert _reload(template).components != list(edited.components)
    with agency_scope(agency_a):
        assert selectors.pending_edit(_reload(template)) is not None
    services.submit_template(actor=admin_actor, template=_reload(template))
    row = _reload(template)
    assert (row.status, row.components) == (Status.PENDING, list(edited.components))
    remote = simulator._call("GET", "/_sim/templates")["data"][0]
    assert remote["components"] == list(edited.components)
    actions = [v.action for v in sorted(_versions(template), key=lambda v: v.number)]
    assert actions == ["saved", "submitted", "saved", "edit_submitted"]


def test_an_approved_template_is_edited_at_most_once_a_day(
    agency_a, registered_number, simulator, admin_actor
):
    template = services.submit_template(
        actor=admin_actor, template=_save(admin_actor, registered_number)
    )
    for footer in ("Second wording", "Third wording"):
        simulator.set_template_status(template.meta_template_id, "APPROVED")
        with agency_scope(agency_a):
            MessageTemplate.objects.filter(pk=template.pk).update(status=Status.APPROVED)
        _save(admin_actor, registered_number, utility_draft(footer_text=footer), _reload(template))
        if footer == "Second wording":
            services.submit_template(actor=admin_actor, template=_reload(template))
    with pytest.raises(services.TemplateError, match="per 24 hours"):
        services.submit_template(actor=admin_actor, template=_reload(template))


def test_an_approved_templates_category_cannot_change(agency_a, registered_number, admin_actor):
    template = services.submit_template(
        actor=admin_actor, template=_save(admin_actor, registered_number)
    )
    with agency_scope(agency_a):
        MessageTemplate.objects.filter(pk=template.pk).update(status=Status.APPROVED)
    _save(admin_actor, registered_number, utility_draft(category="MARKETING"), _reload(template))
    with pytest.raises(services.TemplateError, match="category cannot change"):
        services.submit_template(actor=admin_actor, template=_reload(template))


def test_a_submitted_templates_name_cannot_change(registered_number, admin_actor):
    template = services.submit_template(
        actor=admin_actor, template=_save(admin_actor, registered_number)
    )
    with pytest.raises(services.TemplateError, match="keeps its name and language"):
        _save(admin_actor, registered_number, utility_draft(name="permit_done"), template)


def test_a_named_template_is_submitted_with_its_parameter_format(
    registered_number, simulator, admin_actor
):
    template = _save(admin_actor, registered_number, named_draft())
    services.submit_template(actor=admin_actor, template=template)
    remote = simulator._call("GET", "/_sim/templates")["data"][0]
    assert remote["parameter_format"] == "NAMED"


# ---- deletion -------------------------------------------------------------------------------


def _campaign(template, number, status="scheduled", name="Permit reminders"):
    with agency_scope(template.agency_id):
        return Campaign.objects.create(
            agency_id=template.agency_id,
            name=name,
            phone_number=number,
            template=template,
            status=status,
        )


def test_deleting_a_template_campaigns_use_warns_with_their_names(registered_number, admin_actor):
    template = services.submit_template(
        actor=admin_actor, template=_save(admin_actor, registered_number)
    )
    _campaign(template, registered_number)
    _campaign(template, registered_number, status="completed", name="Old one")
    with pytest.raises(services.TemplateInUse) as warning:
        services.delete_template(actor=admin_actor, template=template)
    assert [c.name for c in warning.value.campaigns] == ["Permit reminders"]
    assert "Permit reminders" in str(warning.value)
    assert _reload(template).status == Status.PENDING


def test_a_confirmed_deletion_deletes_the_translation_at_meta(
    agency_a, registered_number, simulator, admin_actor
):
    english = services.submit_template(
        actor=admin_actor, template=_save(admin_actor, registered_number)
    )
    spanish = utility_draft(language="es", body_text="Hola {{1}}, su permiso {{2}} está listo.")
    services.submit_template(
        actor=admin_actor, template=_save(admin_actor, registered_number, spanish)
    )
    _campaign(english, registered_number)
    services.delete_template(actor=admin_actor, template=english, confirm=True)
    assert _reload(english).status == Status.DELETED
    remaining = simulator._call("GET", "/_sim/templates")["data"]
    assert [t["language"] for t in remaining] == ["es"]  # the other translation stays
    [deleted] = _audit(agency_a, "template.deleted")
    assert deleted.changes["status"] == ["PENDING", "DELETED"]
    assert _events(agency_a, "template.status")[-1].payload["status"] == "DELETED"


def test_deleting_a_never_submitted_draft_removes_it(agency_a, number, admin_actor):
    template = _save(admin_actor, number)
    assert services.delete_template(actor=admin_actor, template=template) is None
    with agency_scope(agency_a):
        assert not MessageTemplate.objects.exists()
        assert not TemplateVersion.objects.exists()
    assert _audit(agency_a, "template.draft_deleted")


# ---- banned terms ---------------------------------------------------------------------------


def test_banned_terms_are_added_and_removed_with_audit_and_events(agency_a, admin_actor):
    term = services.add_banned_term(actor=admin_actor, agency=agency_a, term="  Free   Parking ")
    assert term.term == "Free Parking"
    with pytest.raises(services.TemplateError, match="already on the list"):
        services.add_banned_term(actor=admin_actor, agency=agency_a, term="free parking")
    services.remove_banned_term(actor=admin_actor, term=term)
    with agency_scope(agency_a):
        assert not selectors.banned_terms(agency_a).exists()
    assert [e.payload["action"] for e in _events(agency_a, "banned_term.changed")] == [
        "added",
        "removed",
    ]
    assert _audit(agency_a, "template.banned_term_added")
    assert _audit(agency_a, "template.banned_term_removed")


def test_an_empty_banned_term_is_refused(agency_a, admin_actor):
    with pytest.raises(services.TemplateError, match="Write the word"):
        services.add_banned_term(actor=admin_actor, agency=agency_a, term="   ")
