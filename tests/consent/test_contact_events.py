"""Contacts' changes are on the event stream (``contact.changed``), in the transaction that
makes them, with the fields that changed and never their values."""

from __future__ import annotations

import pytest

from bsp.events.models import DomainEvent
from messaging.consent import services
from records.audit import Actor
from tenants.scoping import agency_scope
from tests.factories import ContactFactory, ConversationFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


def _contact_events(agency) -> list[tuple[dict, dict]]:
    with agency_scope(agency):
        rows = DomainEvent.objects.filter(type="contact.changed").order_by("sequence")
        return list(rows.values_list("subject", "payload"))


def test_creating_a_contact_publishes_it(agency_a):
    with agency_scope(agency_a):
        contact = services.create_contact(
            actor=ACTOR, agency=agency_a, wa_id="15125550100", name="Ana", attributes={"ward": 3}
        )
    assert _contact_events(agency_a) == [
        ({"contact": contact.pk}, {"change": "created", "fields": ["wa_id", "name", "ward"]})
    ]


def test_an_update_publishes_the_fields_that_changed_not_their_values(agency_a):
    contact = ContactFactory(agency=agency_a, profile_name="Ana", attributes={"ward": 3})
    with agency_scope(agency_a):
        services.update_contact(actor=ACTOR, contact=contact, name="Ana Ruiz")
    ((_, payload),) = _contact_events(agency_a)
    assert payload == {"change": "updated", "fields": ["name"]}
    assert "Ana Ruiz" not in str(payload)


def test_an_update_that_changes_nothing_publishes_nothing(agency_a):
    contact = ContactFactory(agency=agency_a, profile_name="Ana")
    with agency_scope(agency_a):
        services.update_contact(actor=ACTOR, contact=contact, name="Ana")
    assert _contact_events(agency_a) == []


def test_deleting_a_contact_publishes_it(agency_a):
    contact = ContactFactory(agency=agency_a)
    with agency_scope(agency_a):
        services.delete_contact(actor=ACTOR, contact=contact)
    assert _contact_events(agency_a) == [
        ({"contact": contact.pk}, {"change": "deleted", "fields": []})
    ]


def test_a_refused_deletion_publishes_nothing(agency_a):
    contact = ContactFactory(agency=agency_a)
    ConversationFactory(agency=agency_a, contact=contact)
    with agency_scope(agency_a), pytest.raises(services.ContactHasRecords):
        services.delete_contact(actor=ACTOR, contact=contact)
    assert _contact_events(agency_a) == []
