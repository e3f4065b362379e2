"""Account webhooks on the event stream: ``template.status`` when a template's status,
quality or category changes, ``phone_number.changed`` when a number's quality, throughput,
messaging limit or status changes — once, only when something changed, never on a
redelivery, a no-op or a rollback."""

from __future__ import annotations

import pytest
from django.db import transaction

from bsp.events.models import DomainEvent
from messaging.webhooks import account
from messaging.webhooks.changes import Change, Route
from templates_mgr.models import MessageTemplate
from tenants.scoping import agency_scope
from tests.factories import PhoneNumberFactory, TemplateFactory, WabaFactory
from tests.messaging.webhooks.account_payloads import (
    ENTRY_TIME,
    account_update,
    ban,
    phone_number_quality,
    template_category,
    template_quality,
    template_status,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def waba(agency_a):
    return WabaFactory(agency=agency_a)


@pytest.fixture
def template(waba):
    return TemplateFactory(
        agency=waba.agency,
        waba=waba,
        meta_template_id="881",
        status=MessageTemplate.Status.PENDING,
        quality_score="GREEN",
    )


@pytest.fixture
def number(waba):
    return PhoneNumberFactory(agency=waba.agency, waba=waba, display_phone_number="15550783881")


def published(agency, type_: str) -> list[dict]:
    with agency_scope(agency):
        rows = DomainEvent.objects.filter(type=type_).order_by("sequence")
        return [{"subject": row.subject, **row.payload} for row in rows]


def test_a_template_status_change_is_published_once(ingest, waba, template):
    payload = template_status(waba.waba_id, "APPROVED", template_id=881, name=template.name)
    ingest(payload)
    ingest(payload)  # Meta's retry
    [event] = published(waba.agency, "template.status")
    assert event["subject"] == {"template": template.pk, "waba": waba.pk}
    assert (event["status"], event["previous_status"]) == ("APPROVED", "PENDING")
    assert event["changed"]["status"] == ["PENDING", "APPROVED"]


def test_a_status_the_template_already_has_publishes_nothing(ingest, waba, template):
    ingest(template_status(waba.waba_id, "PENDING", template_id=881, name=template.name))
    assert published(waba.agency, "template.status") == []


def test_a_template_quality_change_is_published(ingest, waba, template):
    ingest(template_quality(waba.waba_id, "RED", template_id=881, name=template.name))
    [event] = published(waba.agency, "template.status")
    assert event["changed"] == {"quality_score": ["GREEN", "RED"]}


def test_a_template_category_change_is_published_and_a_heads_up_is_not(ingest, waba, template):
    ingest(
        template_category(
            waba.waba_id, template_id=881, name=template.name, correct_category="MARKETING"
        )
    )
    assert published(waba.agency, "template.status") == []
    ingest(
        template_category(
            waba.waba_id,
            template_id=881,
            name=template.name,
            previous_category="UTILITY",
            new_category="MARKETING",
            time=ENTRY_TIME + 1,
        )
    )
    [event] = published(waba.agency, "template.status")
    assert event["changed"] == {"category": [template.category, "MARKETING"]}


def test_a_number_rated_red_is_published_once(ingest, waba, number):
    payload = phone_number_quality(waba.waba_id, "15550783881", "FLAGGED")
    ingest(payload)
    ingest(payload)
    [event] = published(waba.agency, "phone_number.changed")
    assert event["subject"] == {"phone_number": number.pk, "waba": waba.pk}
    assert event["changed"] == {"quality_rating": ["UNKNOWN", "RED"]}


def test_a_throughput_upgrade_is_published(ingest, waba, number):
    ingest(phone_number_quality(waba.waba_id, "15550783881", "THROUGHPUT_UPGRADE"))
    [event] = published(waba.agency, "phone_number.changed")
    assert event["changed"] == {"throughput_tier": [80, 1000]}


def test_a_new_messaging_limit_is_published_for_every_number_of_the_portfolio(ingest, waba, number):
    other = PhoneNumberFactory(agency=waba.agency, waba=waba)
    payload = phone_number_quality(
        waba.waba_id, "15550783881", "UPGRADE", max_daily_conversations_per_business="TIER_10K"
    )
    ingest(payload)
    ingest(payload)
    events = published(waba.agency, "phone_number.changed")
    assert [e["subject"]["phone_number"] for e in events] == [number.pk, other.pk]
    assert {str(e["changed"]) for e in events} == {
        str({"messaging_limit_tier": ["TIER_250", "TIER_10K"]})
    }


def test_a_ban_and_a_reinstatement_publish_each_numbers_status(ingest, waba, number):
    ingest(ban(waba.waba_id, "DISABLE"))
    ingest(ban(waba.waba_id, "DISABLE"))
    ingest(ban(waba.waba_id, "REINSTATE", time=ENTRY_TIME + 60))
    changes = [e["changed"] for e in published(waba.agency, "phone_number.changed")]
    assert changes == [{"status": ["connected", "banned"]}, {"status": ["banned", "connected"]}]


def test_a_deleted_account_publishes_its_numbers_disconnection(ingest, waba, number):
    ingest(account_update(waba.waba_id, "ACCOUNT_DELETED"))
    [event] = published(waba.agency, "phone_number.changed")
    assert event["changed"] == {"status": ["connected", "disconnected"]}


def test_a_rolled_back_change_publishes_nothing(waba, template):
    value = template_status(waba.waba_id, "APPROVED", template_id=881, name=template.name)
    change = Change(
        event_id=1,
        field="message_template_status_update",
        value=value["entry"][0]["changes"][0]["value"],
        route=Route(agency_id=waba.agency_id, waba_pk=waba.pk, waba_id=waba.waba_id),
        entry_time=None,
    )
    with agency_scope(waba.agency), pytest.raises(RuntimeError), transaction.atomic():
        account.handle_template_status(change)
        assert len(published(waba.agency, "template.status")) == 1
        raise RuntimeError("the rest of the change failed")
    assert published(waba.agency, "template.status") == []
