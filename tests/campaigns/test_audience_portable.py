"""The demo's audience path (the ORM, for SQLite) answers exactly as the PostgreSQL statement
does: both run here on PostgreSQL over the same citizens, and every recipient, reason and
value must match."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import ConversationLabel, Label
from messaging.campaigns import services
from messaging.campaigns.audience import resolve
from messaging.models import Consent, Contact, Conversation
from tenants.scoping import agency_scope
from tests.campaigns.factories import ADMIN, campaign, citizen, marketing_off, template
from tests.factories import ContactFactory

IN, OUT = Consent.Status.OPTED_IN, Consent.Status.OPTED_OUT


@pytest.fixture
def crowd(agency_a, number):
    """Citizens covering every rule: consent histories, topics, marketing preferences,
    unreachable, US and foreign numbers, labels, attributes and an open window."""
    people = {
        "in": citizen(agency_a, wa_id="15125550001", district="north"),
        "out": citizen(agency_a, wa_id="15125550002", consents=(("", IN), ("", OUT))),
        "back": citizen(agency_a, wa_id="15125550003", consents=(("", IN), ("", OUT), ("", IN))),
        "roads_out": citizen(
            agency_a, wa_id="15125550004", consents=(("", IN), ("roads", OUT)), district="north"
        ),
        "roads_only": citizen(agency_a, wa_id="15125550005", consents=(("roads", IN),)),
        "mexico": citizen(agency_a, wa_id="5215512345678", district="south"),
        "uk": citizen(agency_a, wa_id="447700900123", permit=""),
        "lost": citizen(agency_a, wa_id="15125550006"),
        "numbers": citizen(agency_a, wa_id="15125550007", permit=7, district="north"),
    }
    ContactFactory(agency=agency_a, wa_id="15125550008")  # never consented
    marketing_off(people["mexico"])
    with agency_scope(agency_a):
        Contact.objects.filter(pk=people["lost"].pk).update(unreachable_at=timezone.now())
        Contact.objects.filter(pk=people["in"].pk).update(profile_name="Ana")
        open_window = Conversation.objects.create(
            agency=agency_a,
            phone_number=number,
            contact=people["in"],
            window_expires_at=timezone.now() + timedelta(hours=3),
        )
        label = Label.objects.create(agency=agency_a, name="Permits")
        ConversationLabel.objects.create(agency=agency_a, conversation=open_window, label=label)
    return people, label


def both(c, **kwargs):
    with agency_scope(c.agency_id):
        return resolve(c, **kwargs), resolve(c, portable=True, **kwargs)


def test_the_same_recipients_reasons_and_values_for_a_utility_template(crowd, number, utility):
    sql, portable = both(campaign(number, utility))
    assert len(sql) == 8
    assert portable == sql


def test_the_same_for_a_marketing_template_with_a_topic(crowd, number):
    news = template(number, category="MARKETING", topic="roads")
    sql, portable = both(campaign(number, news))
    assert {r.skip_reason for r in sql} == {
        "marketing_opted_out",
        "us_marketing",
        "missing_variable",
        "unreachable",
    }
    assert portable == sql


def test_the_same_with_label_and_attribute_filters(crowd, number, utility):
    people, label = crowd
    by_label = campaign(number, utility, audience={"source": "contacts", "label_ids": [label.pk]})
    sql, portable = both(by_label)
    assert [r.contact_id for r in sql] == [people["in"].pk]
    assert portable == sql
    north = {"source": "contacts", "attributes": [{"key": "district", "value": "north"}]}
    sql, portable = both(campaign(number, utility, audience=north))
    assert len(sql) == 3
    assert portable == sql


def test_the_same_for_a_few_contacts_and_for_the_first_rows(crowd, number, utility):
    people, _ = crowd
    c = campaign(number, utility)
    wanted = [people["in"].pk, people["out"].pk, people["uk"].pk]
    sql, portable = both(c, contact_ids=wanted)
    assert len(sql) == 3
    assert portable == sql
    sql, portable = both(c, limit=2)
    assert len(sql) == 2
    assert portable == sql


def test_the_same_for_an_uploaded_list_with_its_columns(crowd, agency_a, number, utility):
    text = (
        "phone,first_name,permit\n"
        "+1 512 555 0001,Ana,P-1\n"
        "15125550001,Ana again,P-1\n"
        "not a number,Bea,P-2\n"
        "+1 512 555 0002,Carl,P-3\n"
        "+1 512 555 0999,Dee,P-4\n"
        "+44 7700 900123,Eve,\n"
    )
    result = services.upload_audience_csv(
        actor=ADMIN, agency=agency_a, file=text.encode(), filename="list.csv"
    )
    assert result.upload is not None, result.error
    columns = {
        "var_1": {"source": "column", "value": "first_name"},
        "var_2": {"source": "attribute", "value": "permit"},
    }
    c = campaign(
        number, utility, audience={"source": "csv", "upload_id": result.upload.pk}, mapping=columns
    )
    sql, portable = both(c)
    assert len(sql) == 6
    assert portable == sql
