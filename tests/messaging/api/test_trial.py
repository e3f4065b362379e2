"""Trial mode: an agency not yet approved to go live sends only to its own staff's
numbers (policy rule trial_recipient), whichever path sends."""

from __future__ import annotations

import pytest

from messaging import services
from messaging.policy import Rule, SendRefused, trial_recipients
from messaging.whatsapp import builders
from tenants.scoping import agency_scope
from tests.messaging.conftest import CITIZEN

TEXT = {"to": f"+{CITIZEN}", "type": "text", "text": {"body": "Hello"}}
STAFF = "+1 (312) 555-0142"


@pytest.fixture
def in_trial(agency_a, open_conversation):
    agency_a.live_approved = False
    agency_a.contact_phone = STAFF
    agency_a.save(update_fields=["live_approved", "contact_phone"])
    return agency_a


def _staff(agency) -> frozenset[str]:
    with agency_scope(agency):  # as every send path calls it
        return trial_recipients(agency)


def test_the_staff_numbers_are_the_agency_s_contact_phone(in_trial):
    assert _staff(in_trial) == {"13125550142"}


def test_a_member_s_whatsapp_number_is_a_staff_number_too(in_trial):
    from tests.factories import MembershipFactory

    MembershipFactory(agency=in_trial, phone_e164="+44 7700 900123")
    MembershipFactory(agency=in_trial)  # no number of their own
    assert _staff(in_trial) == {"13125550142", "447700900123"}


def test_another_agency_s_members_are_not_staff(in_trial, agency_b):
    from tests.factories import MembershipFactory

    MembershipFactory(agency=agency_b, phone_e164="+44 7700 900123")
    assert _staff(in_trial) == {"13125550142"}


def test_a_citizen_is_refused_with_trial_recipient(api, in_trial):
    answer = api.send(TEXT)
    assert (answer.status_code, answer.json()["code"]) == (422, "trial_recipient")


def test_the_agency_s_own_number_may_be_messaged(api, in_trial, number):
    from tests.factories import ContactFactory, ConversationFactory

    staff = ContactFactory(agency=in_trial, wa_id="13125550142")
    from datetime import timedelta

    from django.utils import timezone

    ConversationFactory(
        agency=in_trial,
        phone_number=number,
        contact=staff,
        window_expires_at=timezone.now() + timedelta(hours=1),
    )
    answer = api.send({**TEXT, "to": "+13125550142"})
    assert answer.status_code == 202, answer.json()


def test_once_live_the_citizen_may_be_messaged(api, in_trial):
    in_trial.live_approved = True
    in_trial.save(update_fields=["live_approved"])
    assert api.send(TEXT).status_code == 202


def test_the_inbox_path_is_refused_too(in_trial):
    with pytest.raises(SendRefused) as refused:
        services.send_message(
            agency=in_trial,
            sender=services.Sender.system("test"),
            to=CITIZEN,
            message=builders.Text("Hello"),
        )
    assert refused.value.rule == Rule.TRIAL_RECIPIENT
