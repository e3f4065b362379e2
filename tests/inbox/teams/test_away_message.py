"""The away message: a citizen who writes outside the number's business hours (in the
agency's time zone) gets it once per cooldown, never during hours, never for a late or
replayed webhook, and never twice for one message under at-least-once delivery."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from bsp.events.models import EventCursor
from inbox.models import AwayReply
from messaging.models import Message
from tenants.models import PhoneNumber
from tenants.scoping import agency_scope, system_scope
from tests.inbox.teams.conftest import deliver_events, new_citizen, write_in
from tests.inbox.teams.factories import BusinessHoursFactory

pytestmark = pytest.mark.django_db

MONDAY_10_IN_CHICAGO = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
MONDAY_23_30_IN_CHICAGO = datetime(2026, 12, 1, 5, 30, tzinfo=UTC)  # Tuesday in UTC
SATURDAY_10_IN_CHICAGO = datetime(2026, 12, 5, 16, 0, tzinfo=UTC)


@pytest.fixture
def hours(agency_a, number):
    return BusinessHoursFactory(agency=agency_a, phone_number=number, away_cooldown_hours=12)


def away_messages(agency_id: int) -> list[Message]:
    with agency_scope(agency_id):
        return list(
            Message.objects.filter(
                direction=Message.Direction.OUTBOUND, sender_type=Message.SenderType.AUTOMATION
            ).order_by("pk")
        )


def test_a_citizen_writing_at_night_gets_the_away_message(agency_a, number, hours):
    with time_machine.travel(MONDAY_23_30_IN_CHICAGO, tick=False):
        inbound = write_in(number, body="Is anyone there?")
        deliver_events()

    [reply] = away_messages(agency_a.pk)
    assert reply.content["text"]["body"] == hours.away_message
    assert reply.conversation_id == inbound.conversation_id
    assert reply.status == Message.Status.QUEUED
    with agency_scope(agency_a):
        assert AwayReply.objects.get(conversation_id=inbound.conversation_id).sent_at == (
            MONDAY_23_30_IN_CHICAGO
        )


def test_no_away_message_during_business_hours(agency_a, number, hours):
    with time_machine.travel(MONDAY_10_IN_CHICAGO, tick=False):
        write_in(number)
        deliver_events()

    assert away_messages(agency_a.pk) == []


def test_the_agencys_time_zone_decides_not_utc(agency_a, number, hours):
    # 14:30 UTC on a Monday is inside 09:00-17:00 in UTC, but 08:30 in Chicago.
    with time_machine.travel(datetime(2026, 11, 30, 14, 30, tzinfo=UTC), tick=False):
        write_in(number)
        deliver_events()

    assert len(away_messages(agency_a.pk)) == 1


def test_the_away_message_is_sent_once_per_cooldown(agency_a, number, hours):
    citizen = new_citizen()
    with time_machine.travel(SATURDAY_10_IN_CHICAGO, tick=False):
        write_in(number, citizen, body="Hello?")
        deliver_events()
    with time_machine.travel(SATURDAY_10_IN_CHICAGO + timedelta(hours=2), tick=False):
        write_in(number, citizen, body="Still there?")
        deliver_events()
    assert len(away_messages(agency_a.pk)) == 1

    with time_machine.travel(SATURDAY_10_IN_CHICAGO + timedelta(hours=12, minutes=1), tick=False):
        write_in(number, citizen, body="Anyone?")
        deliver_events()

    assert len(away_messages(agency_a.pk)) == 2


def test_each_conversation_has_its_own_cooldown(agency_a, number, hours):
    with time_machine.travel(SATURDAY_10_IN_CHICAGO, tick=False):
        write_in(number)
        write_in(number)
        deliver_events()

    assert len(away_messages(agency_a.pk)) == 2


def test_a_redelivered_event_sends_nothing_twice(agency_a, number, hours):
    with time_machine.travel(SATURDAY_10_IN_CHICAGO, tick=False):
        write_in(number)
        deliver_events()
        with system_scope():  # the dispatcher died before its commit: everything again
            EventCursor.objects.filter(agency_id=agency_a.pk).update(dispatched_through=0)
        deliver_events()

    assert len(away_messages(agency_a.pk)) == 1


def test_a_late_webhook_gets_no_away_message(agency_a, number, hours):
    with time_machine.travel(SATURDAY_10_IN_CHICAGO, tick=False):
        write_in(number, timestamp=int(time.time()) - 2 * 3600)  # written two hours ago
        write_in(number, timestamp=int(time.time()) - 25 * 3600)  # outside the window
        deliver_events()

    assert away_messages(agency_a.pk) == []


def test_disabled_hours_send_nothing(agency_a, number, hours):
    with agency_scope(agency_a):
        type(hours).objects.filter(pk=hours.pk).update(enabled=False)
    with time_machine.travel(SATURDAY_10_IN_CHICAGO, tick=False):
        write_in(number)
        deliver_events()

    assert away_messages(agency_a.pk) == []


def test_a_number_without_hours_sends_nothing(agency_a, number):
    with time_machine.travel(SATURDAY_10_IN_CHICAGO, tick=False):
        write_in(number)
        deliver_events()

    assert away_messages(agency_a.pk) == []


def test_a_refused_away_message_is_only_a_log_line(agency_a, number, hours, caplog):
    with time_machine.travel(SATURDAY_10_IN_CHICAGO, tick=False):
        inbound = write_in(number)
        with agency_scope(agency_a):
            PhoneNumber.objects.filter(pk=number.pk).update(status=PhoneNumber.Status.DISCONNECTED)
        with caplog.at_level(logging.INFO, logger="inbox.admin_pages.away"):
            deliver_events()

    assert away_messages(agency_a.pk) == []
    with agency_scope(agency_a):
        assert not AwayReply.objects.filter(conversation_id=inbound.conversation_id).exists()
    assert "refused (sender_unavailable)" in caplog.text


def test_a_suspended_agency_sends_no_away_message(agency_a, number, hours):
    with time_machine.travel(SATURDAY_10_IN_CHICAGO, tick=False):
        write_in(number)
        type(agency_a).objects.filter(pk=agency_a.pk).update(status="suspended")
        deliver_events()

    assert away_messages(agency_a.pk) == []


def test_a_reaction_gets_no_away_message(agency_a, number, hours):
    with time_machine.travel(SATURDAY_10_IN_CHICAGO, tick=False):
        citizen = new_citizen()
        first = write_in(number, citizen)
        deliver_events()
        with agency_scope(agency_a):
            AwayReply.objects.all().delete()
        write_in(
            number,
            citizen,
            type="reaction",
            reaction={"message_id": first.wamid, "emoji": "👍"},
        )
        deliver_events()

    assert len(away_messages(agency_a.pk)) == 1


def test_hours_past_midnight_keep_the_away_message_quiet_until_they_close(agency_a, number):
    BusinessHoursFactory(agency=agency_a, phone_number=number, weekly={"fri": [["22:00", "02:00"]]})
    saturday_00_30_in_chicago = datetime(2026, 12, 5, 6, 30, tzinfo=UTC)
    with time_machine.travel(saturday_00_30_in_chicago, tick=False):
        write_in(number)  # still Friday's night line
        deliver_events()
    assert away_messages(agency_a.pk) == []

    with time_machine.travel(saturday_00_30_in_chicago + timedelta(hours=2), tick=False):
        write_in(number)  # 02:30: the line has closed
        deliver_events()

    assert len(away_messages(agency_a.pk)) == 1
