"""Outbound DLP (issue 12 §8): every send path checks what a message says before it is
stored; a blocking finding refuses it with the kind named (never the value), unless the
sender's role may override and gives a justification, which is recorded and audited."""

from __future__ import annotations

import time

import pytest

from bsp.events import types
from messaging.models import Message
from messaging.policy import Rule, SendRefused
from messaging.services import Sender, send_message
from messaging.whatsapp import builders
from records.audit import Actor
from records.dlp import outbound, services
from records.dlp.models import DlpFlag
from tenants.scoping import agency_scope
from tests.factories import ApiCredentialFactory
from tests.records.dlp.conftest import (
    ADMIN,
    CARD,
    CITIZEN,
    SSN,
    audits_of,
    events_of,
    everything_recorded,
)


def staff(membership) -> Sender:
    return Sender.staff(membership.user, Actor.system(f"user-{membership.user.pk}"))


def send(agency, sender: Sender, body: str, conversation, **kwargs) -> Message:
    return send_message(
        agency=agency,
        sender=sender,
        to=CITIZEN,
        message=builders.Text(body),
        phone_number=conversation.phone_number,
        **kwargs,
    )


def stored(agency) -> list[Message]:
    with agency_scope(agency):
        return list(Message.objects.filter(direction="out"))


def test_an_agents_reply_with_an_ssn_is_refused_naming_the_kind_not_the_value(
    agency_a, agent, conversation
):
    with pytest.raises(SendRefused) as refused:
        send(agency_a, staff(agent), f"Your SSN is {SSN}.", conversation)

    assert refused.value.rule == Rule.SENSITIVE_DATA
    assert "a US Social Security number" in refused.value.message
    assert SSN not in refused.value.message
    assert refused.value.details["kinds"] == ["ssn"]
    assert refused.value.details["may_override"] is False  # agents may not override
    assert "justification" not in refused.value.message
    assert stored(agency_a) == []
    [audit] = audits_of(agency_a, "message.refused")
    assert audit.changes["rule"] == "sensitive_data" and audit.changes["kinds"] == ["ssn"]
    [event] = events_of(agency_a, types.DLP_FLAGGED)
    assert event.payload == {
        "direction": "out",
        "outcome": "blocked",
        "kinds": ["ssn"],
        "sender_type": "user",
    }
    assert SSN not in everything_recorded(agency_a)


def test_a_supervisor_is_told_a_justification_would_let_it_go(agency_a, supervisor, conversation):
    with pytest.raises(SendRefused) as refused:
        send(agency_a, staff(supervisor), f"card {CARD}", conversation)
    assert refused.value.details["may_override"] is True
    assert "give a justification" in refused.value.message
    assert "a payment card number" in refused.value.message


def test_a_supervisors_justified_send_is_queued_recorded_audited_and_published(
    agency_a, supervisor, conversation
):
    body = f"As requested, the SSN on file: {SSN}"
    why = "The citizen asked us to confirm the number we hold, case 2026-114."

    message = send(agency_a, staff(supervisor), body, conversation, justification=why)

    assert message.status == Message.Status.QUEUED
    assert message.content["text"]["body"] == body  # the record is what was sent
    with agency_scope(agency_a):
        flag = DlpFlag.objects.get(message=message)
    assert flag.direction == "out" and flag.outcome == "justified"
    assert flag.kinds == ["ssn"]
    assert flag.justification == why and flag.justified_by_id == supervisor.user_id
    [finding] = flag.findings
    assert body[finding["start"] : finding["end"]] == SSN  # offsets, not the value
    assert finding["field"] == "text.body"
    [audit] = audits_of(agency_a, "dlp.sent_with_justification")
    assert audit.changes == {"kinds": ["ssn"], "justification": why}
    [event] = events_of(agency_a, types.DLP_FLAGGED)
    assert event.subject["message"] == message.pk
    assert event.payload == {"direction": "out", "outcome": "justified", "kinds": ["ssn"]}
    assert SSN not in everything_recorded(agency_a)


def test_an_agents_justification_does_not_unlock_the_send(agency_a, agent, conversation):
    with pytest.raises(SendRefused):
        send(agency_a, staff(agent), SSN, conversation, justification="Because I need to, really.")
    assert stored(agency_a) == []


def test_a_justification_that_repeats_the_number_is_refused(agency_a, supervisor, conversation):
    with pytest.raises(SendRefused) as refused:
        send(
            agency_a,
            staff(supervisor),
            SSN,
            conversation,
            justification=f"Confirming {SSN} for the citizen",
        )
    assert "justification itself" in refused.value.message
    assert refused.value.details["justification"] is True
    assert SSN not in everything_recorded(agency_a)


def test_a_justification_of_a_few_characters_is_refused(agency_a, supervisor, conversation):
    with pytest.raises(SendRefused, match="at least 10 characters"):
        send(agency_a, staff(supervisor), SSN, conversation, justification="ok")


def test_the_roles_that_may_override_are_the_agencys_choice(
    agency_a, agent, conversation, set_policy
):
    set_policy(override_roles=["agent"])
    message = send(
        agency_a, staff(agent), SSN, conversation, justification="The citizen asked for it."
    )
    assert message.pk is not None


def test_an_api_send_is_refused_and_cannot_be_overridden(agency_a, conversation):
    credential = ApiCredentialFactory(agency=agency_a)
    sender = Sender.api(credential, Actor.system("api"))
    with pytest.raises(SendRefused) as refused:
        send(agency_a, sender, f"ssn {SSN}", conversation, justification="integrator says so")
    assert refused.value.details == {"kinds": ["ssn"], "may_override": False}


def test_system_messages_are_checked_too(agency_a, conversation):
    with pytest.raises(SendRefused, match="payment card"):
        send(agency_a, Sender.system("automation"), f"card {CARD}", conversation)


def test_a_caption_is_checked_like_a_text(agency_a, agent, conversation):
    with pytest.raises(SendRefused, match="Social Security"):
        send_message(
            agency=agency_a,
            sender=staff(agent),
            to=CITIZEN,
            message=builders.image("1234567890", caption=f"scan of {SSN}"),
            phone_number=conversation.phone_number,
        )


def test_with_the_outbound_check_off_the_message_goes_and_is_flagged(
    agency_a, agent, conversation, set_policy
):
    set_policy(outbound_block=False)
    message = send(agency_a, staff(agent), SSN, conversation)
    with agency_scope(agency_a):
        flag = DlpFlag.objects.get(message=message)
    assert flag.outcome == "flagged" and flag.kinds == ["ssn"]
    assert audits_of(agency_a, "dlp.sent_with_justification") == []


def test_only_the_chosen_kinds_stop_a_message(agency_a, agent, conversation, set_policy):
    set_policy(outbound_kinds=["ssn"])
    assert send(agency_a, staff(agent), f"card {CARD}", conversation).pk
    with pytest.raises(SendRefused):
        send(agency_a, staff(agent), SSN, conversation)


def test_an_agency_block_rule_stops_a_message_and_a_flag_rule_does_not(
    agency_a, agent, conversation
):
    services.create_rule(
        agency=agency_a, actor=ADMIN, name="Case", pattern=r"CASE-\d{6}", action="block"
    )
    services.create_rule(agency=agency_a, actor=ADMIN, name="Watch", keywords=["informant"])
    with pytest.raises(SendRefused, match="the rule “Case”"):
        send(agency_a, staff(agent), "about case-123456", conversation)
    message = send(agency_a, staff(agent), "the informant called", conversation)
    with agency_scope(agency_a):
        assert DlpFlag.objects.get(message=message).kinds == ["custom"]


def test_a_rule_switched_off_applies_at_once(agency_a, agent, conversation):
    rule = services.create_rule(
        agency=agency_a, actor=ADMIN, name="Case", pattern=r"CASE-\d{6}", action="block"
    )
    with pytest.raises(SendRefused):
        send(agency_a, staff(agent), "case-123456", conversation)
    services.set_rule_enabled(rule=rule, actor=ADMIN, enabled=False)
    assert send(agency_a, staff(agent), "case-123456", conversation).pk


def test_a_clean_message_makes_no_flag(agency_a, agent, conversation):
    message = send(agency_a, staff(agent), "Your permit is ready: pick it up at 9am.", conversation)
    with agency_scope(agency_a):
        assert not DlpFlag.objects.filter(message=message).exists()


def test_a_huge_hostile_text_is_checked_quickly_and_never_crashes(agency_a, agent, conversation):
    services.create_rule(agency=agency_a, actor=ADMIN, name="Words", keywords=["alpha", "beta"])
    services.create_rule(agency=agency_a, actor=ADMIN, name="Ids", pattern=r"ZX-\d{4,8}")
    hostile = ("1-" * 50_000) + ("a" * 100_000) + " 4" * 40_000 + f" {SSN}"
    # Beyond WhatsApp's 4,096 characters (builders refuse it): the scan itself, as on a
    # hostile inbound message.
    with agency_scope(agency_a):
        started = time.perf_counter()
        found = outbound.check(agency_a, {"type": "text", "text": {"body": hostile}})
        elapsed = time.perf_counter() - started
    assert found.blocking_kinds == ["ssn"]
    assert elapsed < 5, f"{elapsed:.1f} s for {len(hostile):,} characters"


def test_a_catastrophic_pattern_stored_behind_the_services_back_is_never_run(
    agency_a, agent, conversation
):
    """The page and the service refuse ``(a+)+$``; one written straight into the table is
    skipped when the rules are compiled, so a hostile text cannot stall the send path."""
    from records.dlp.models import SensitiveDataRule

    with agency_scope(agency_a):
        SensitiveDataRule.objects.create(
            agency=agency_a, name="Evil", kind="regex", pattern=r"(a+)+$", action="block"
        )
    started = time.perf_counter()
    message = send(agency_a, staff(agent), "a" * 4000 + "!", conversation)
    assert message.pk is not None
    assert time.perf_counter() - started < 2
