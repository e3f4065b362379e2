"""`user_preferences`: a citizen stopped or resumed marketing messages inside WhatsApp; the
consent change is recorded (topic "whatsapp:marketing", source whatsapp)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from messaging.models import Consent, Contact
from records.models import AuditEvent
from tests.factories import ContactFactory
from tests.messaging.webhooks.payloads import contact, envelope

CITIZEN = "14155550123"
STOPPED_AT = 1731705721


def preference(value: str, *, timestamp: int = STOPPED_AT, **who: str) -> dict:
    return {
        **(who or {"wa_id": CITIZEN}),
        "detail": f"User requested to {value} marketing messages",
        "category": "marketing_messages",
        "value": value,
        "timestamp": timestamp,
    }


@pytest.fixture
def deliver(ingest, wa_number):
    def run(*items: dict, field: str = "user_preferences", contacts: list | None = None):
        value = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": "15550100001",
                "phone_number_id": wa_number.phone_number_id,
            },
            "contacts": [contact(CITIZEN)] if contacts is None else contacts,
            "user_preferences": list(items),
        }
        event = ingest(envelope({"field": field, "value": value}))
        assert event.status == "processed", event.problems
        return event

    return run


def test_stop_records_a_marketing_opt_out_with_the_preference_as_evidence(
    deliver, wa_number, agency_a, scope_a
):
    known = ContactFactory(agency=agency_a, wa_id=CITIZEN)
    item = preference("stop")
    deliver(item)
    consent = Consent.objects.get()
    assert consent.contact_id == known.pk
    assert (consent.status, consent.topic, consent.source) == (
        "opted_out",
        "whatsapp:marketing",
        "whatsapp",
    )
    assert consent.recorded_at == datetime.fromtimestamp(STOPPED_AT, UTC)
    assert consent.evidence == {**item, "phone_number_id": wa_number.phone_number_id}
    assert AuditEvent.objects.filter(action="consent.opted_out").count() == 1


def test_resume_records_a_marketing_opt_in(deliver, scope_a):
    deliver(preference("stop"))
    deliver(preference("resume", timestamp=STOPPED_AT + 3600))
    latest = Consent.objects.order_by("-recorded_at").first()
    assert (latest.status, latest.topic) == ("opted_in", "whatsapp:marketing")
    assert Consent.objects.count() == 2


def test_a_redelivered_preference_is_recorded_once(deliver, scope_a):
    deliver(preference("stop"))
    deliver(preference("stop"))
    assert Consent.objects.count() == 1


def test_a_preference_of_an_unknown_citizen_creates_the_contact(deliver, scope_a):
    deliver(preference("stop"), contacts=[contact(CITIZEN, "Ana")])
    citizen = Contact.objects.get()
    assert (citizen.wa_id, citizen.profile_name) == (CITIZEN, "Ana")
    assert citizen.consents.get().status == "opted_out"


def test_a_username_users_preference_is_recorded_by_business_scoped_id(deliver, scope_a):
    user_id = "US.13491208655302741918"
    deliver(
        preference("stop", user_id=user_id),
        contacts=[{"profile": {"name": "Ana"}, "user_id": user_id}],
    )
    citizen = Contact.objects.get()
    assert (citizen.wa_id, citizen.business_scoped_user_id) == (None, user_id)
    assert citizen.consents.get().status == "opted_out"


def test_preferences_inside_a_messages_change_are_recorded_too(deliver, scope_a):
    deliver(preference("stop"), field="messages")
    assert Consent.objects.get().topic == "whatsapp:marketing"


def test_a_preference_of_another_category_is_ignored(deliver, scope_a):
    deliver(preference("stop") | {"category": "offers_and_announcements"})
    assert not Consent.objects.exists()
