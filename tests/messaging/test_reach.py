"""The messaging-limit reach counter (messaging.reach): unique citizens reached by
business-initiated messages in the moving 24 h, per business portfolio."""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from messaging import delivery, reach, services
from messaging.models import Contact, Conversation, Message, ReachedContact
from messaging.policy import Rule, SendRefused
from messaging.whatsapp import builders as b
from tenants.models import BusinessPortfolio
from tenants.scoping import agency_scope
from tests.factories import (
    ConsentFactory,
    ContactFactory,
    PhoneNumberFactory,
    TemplateFactory,
    WabaFactory,
)

START = datetime.fromisoformat("2026-03-02T09:00:00+00:00")
NOTICE = b.Template("case_update", "en_US", body=[b.TextParam("Ana"), b.TextParam("C-42")])
SENDER = services.Sender.system("test")


def _tier(number, tier: str) -> None:
    with agency_scope(number.agency_id):
        BusinessPortfolio.objects.filter(pk=number.waba.portfolio_id).update(
            messaging_limit_tier=tier
        )


def _contacts(agency, n: int) -> list[Contact]:
    with agency_scope(agency):
        return Contact.objects.bulk_create(
            [
                Contact(agency=agency, wa_id=f"1415777{i:04d}", phone_e164=f"+1415777{i:04d}")
                for i in range(n)
            ]
        )


def _business_initiated(number, contacts, status=Message.Status.ACCEPTED, at=None) -> list[Message]:
    """Business-initiated template messages to ``contacts``, recorded in the reach counter as
    the send path does (bulk: as a campaign would)."""
    agency = number.agency
    at = at or timezone.now()
    with agency_scope(agency), transaction.atomic():
        conversations = Conversation.objects.bulk_create(
            [Conversation(agency=agency, phone_number=number, contact=c) for c in contacts],
            update_conflicts=True,
            unique_fields=["phone_number", "contact"],
            update_fields=["last_message_at"],
        )
        by_contact = {c.contact_id: c for c in conversations}
        messages = Message.objects.bulk_create(
            [
                Message(
                    agency=agency,
                    conversation_id=by_contact[c.pk].pk,
                    phone_number=number,
                    contact=c,
                    direction=Message.Direction.OUTBOUND,
                    type="template",
                    status=status,
                    business_initiated=True,
                    sender_type=Message.SenderType.CAMPAIGN,
                )
                for c in contacts
            ]
        )
        Message.objects.filter(pk__in=[m.pk for m in messages]).update(created_at=at)
        reach.record_reached(number.waba.portfolio_id, [c.pk for c in contacts], at)
    return messages


def _opted_in(agency, contact) -> Contact:
    ConsentFactory(agency=agency, contact=contact)
    return contact


def _send(agency, contact) -> Message:
    return services.send_message(agency=agency, sender=SENDER, to=contact.wa_id, message=NOTICE)


@pytest.fixture
def number(agency_a):
    number = PhoneNumberFactory(agency=agency_a)
    TemplateFactory(agency=agency_a, waba=number.waba, name="case_update")
    return number


# --- the count -------------------------------------------------------------------------------


def test_each_contact_counts_once_however_many_messages_they_get(agency_a, number):
    contacts = _contacts(agency_a, 3)
    _business_initiated(number, contacts)
    _business_initiated(number, contacts[:1])
    with agency_scope(agency_a):
        assert reach.reached_count(number.waba.portfolio_id, timezone.now()) == 3
        assert reach.remaining(number.waba.portfolio_id, timezone.now()) == 247


def test_an_unlimited_portfolio_has_no_remaining_figure(agency_a, number):
    _tier(number, "TIER_UNLIMITED")
    with agency_scope(agency_a):
        assert reach.remaining(number.waba.portfolio_id, timezone.now()) is None


def test_the_numbers_of_one_portfolio_share_the_count_and_another_portfolio_has_its_own(
    agency_a, number
):
    sibling = PhoneNumberFactory(agency=agency_a, waba=WabaFactory(agency=agency_a))
    same_portfolio = PhoneNumberFactory(
        agency=agency_a, waba=WabaFactory(agency=agency_a, portfolio=number.waba.portfolio)
    )
    contacts = _contacts(agency_a, 4)
    _business_initiated(number, contacts[:2])
    _business_initiated(same_portfolio, contacts[1:3])
    _business_initiated(sibling, contacts)
    with agency_scope(agency_a):
        assert reach.reached_count(number.waba.portfolio_id, timezone.now()) == 3
        assert reach.reached_count(sibling.waba.portfolio_id, timezone.now()) == 4


def test_wabas_without_a_portfolio_share_the_starting_tier(agency_a):
    loose = PhoneNumberFactory(agency=agency_a, waba=WabaFactory(agency=agency_a, portfolio=None))
    _business_initiated(loose, _contacts(agency_a, 2))
    with agency_scope(agency_a):
        assert reach.remaining(None, timezone.now()) == 248


def test_not_reached_names_exactly_the_contacts_a_send_would_count_as_new(agency_a, number):
    contacts = _contacts(agency_a, 5)
    _business_initiated(number, contacts[:2])
    ids = [c.pk for c in contacts]
    with agency_scope(agency_a):
        assert reach.not_reached(number.waba.portfolio_id, ids, timezone.now()) == set(ids[2:])


# --- the moving 24 hours ---------------------------------------------------------------------


def test_a_contact_reached_23_h_59_ago_still_counts(agency_a, number):
    contact = _contacts(agency_a, 1)[0]
    _business_initiated(number, [contact], at=START)
    later = START + timedelta(hours=23, minutes=59)
    with time_machine.travel(later, tick=False), agency_scope(agency_a):
        assert reach.reached_count(number.waba.portfolio_id, timezone.now()) == 1
        assert not reach.not_reached(number.waba.portfolio_id, [contact.pk], timezone.now())


def test_a_contact_reached_24_h_01_ago_no_longer_counts(agency_a, number):
    contact = _contacts(agency_a, 1)[0]
    _business_initiated(number, [contact], at=START)
    later = START + timedelta(hours=24, minutes=1)
    with time_machine.travel(later, tick=False), agency_scope(agency_a):
        assert reach.reached_count(number.waba.portfolio_id, timezone.now()) == 0
        assert reach.not_reached(number.waba.portfolio_id, [contact.pk], timezone.now()) == {
            contact.pk
        }


def test_reaching_a_contact_again_starts_their_24_h_anew(agency_a, number):
    contact = _contacts(agency_a, 1)[0]
    _business_initiated(number, [contact], at=START)
    _business_initiated(number, [contact], at=START + timedelta(hours=12))
    with agency_scope(agency_a):
        assert reach.reached_count(number.waba.portfolio_id, START + timedelta(hours=30)) == 1


def test_a_late_record_never_moves_a_contacts_time_back(agency_a, number):
    contact = _contacts(agency_a, 1)[0]
    _business_initiated(number, [contact], at=START + timedelta(hours=12))
    with agency_scope(agency_a):
        reach.record_reached(number.waba.portfolio_id, [contact.pk], START)
        assert ReachedContact.objects.get().reached_at == START + timedelta(hours=12)


def test_the_send_path_refuses_a_new_contact_once_the_day_is_used_up_and_allows_it_a_day_later(
    agency_a, number
):
    _business_initiated(number, _contacts(agency_a, 250), at=START)
    newcomer = _opted_in(agency_a, ContactFactory(agency=agency_a))
    with time_machine.travel(START + timedelta(hours=23, minutes=59), tick=False):
        with pytest.raises(SendRefused) as refused:
            _send(agency_a, newcomer)
        assert refused.value.rule == Rule.TIER_LIMIT
    with time_machine.travel(START + timedelta(hours=24, minutes=1), tick=False):
        assert _send(agency_a, newcomer).business_initiated


def test_the_send_path_records_the_reach_with_the_message(agency_a, number):
    citizen = _opted_in(agency_a, ContactFactory(agency=agency_a))
    message = _send(agency_a, citizen)
    with agency_scope(agency_a):
        row = ReachedContact.objects.get()
    assert (row.contact_id, row.portfolio_key) == (citizen.pk, number.waba.portfolio_id)
    assert row.reached_at == message.created_at


def test_a_reply_inside_the_window_reaches_nobody(agency_a, number):
    citizen = ContactFactory(agency=agency_a)
    with agency_scope(agency_a):
        Conversation.objects.create(
            agency=agency_a,
            phone_number=number,
            contact=citizen,
            window_expires_at=timezone.now() + timedelta(hours=2),
        )
    assert _send(agency_a, citizen).business_initiated is False
    with agency_scope(agency_a):
        assert not ReachedContact.objects.exists()


def test_a_refused_send_records_no_reach(agency_a, number):
    citizen = ContactFactory(agency=agency_a)  # no opt-in
    with pytest.raises(SendRefused):
        _send(agency_a, citizen)
    with agency_scope(agency_a):
        assert not ReachedContact.objects.exists()


# --- release: a message that reached nobody gives its slot back ------------------------------


def test_a_failed_message_gives_its_slot_back(agency_a, number):
    citizen = _opted_in(agency_a, ContactFactory(agency=agency_a))
    message = _send(agency_a, citizen)
    with agency_scope(agency_a):
        delivery.mark_failed(message, code=131026, reason="not on WhatsApp")
        assert reach.remaining(number.waba.portfolio_id, timezone.now()) == 250


def test_a_failure_keeps_the_slot_while_another_message_to_the_citizen_counts(agency_a, number):
    contact = _contacts(agency_a, 1)[0]
    _business_initiated(number, [contact], at=START)
    failing = _business_initiated(number, [contact], at=START + timedelta(hours=10))[0]
    with time_machine.travel(START + timedelta(hours=11), tick=False), agency_scope(agency_a):
        delivery.mark_failed(failing, code=131000, reason="gave up")
        assert reach.reached_count(number.waba.portfolio_id, timezone.now()) == 1
        # ... and it now expires with the message that still counts, not with the failed one
        assert ReachedContact.objects.get().reached_at == START
    with agency_scope(agency_a):
        a_day_later = START + timedelta(hours=24, minutes=1)
        assert reach.reached_count(number.waba.portfolio_id, a_day_later) == 0


def test_cancelled_messages_give_their_slots_back_when_released(agency_a, number):
    contacts = _contacts(agency_a, 3)
    messages = _business_initiated(number, contacts, status=Message.Status.HELD)
    with agency_scope(agency_a):
        Message.objects.filter(pk__in=[m.pk for m in messages[:2]]).update(
            status=Message.Status.CANCELLED
        )
        freed = reach.release(number.waba.portfolio_id, [c.pk for c in contacts], timezone.now())
        assert freed == 2
        assert reach.reached_count(number.waba.portfolio_id, timezone.now()) == 1  # held counts


def test_at_the_limit_unreleased_failures_are_reconciled_before_refusing(agency_a, number):
    """A failure that arrived by a path that does not release (a status webhook) leaves a
    stale slot; the limit is only declared used up after the messages were consulted."""
    messages = _business_initiated(number, _contacts(agency_a, 250))
    with agency_scope(agency_a):
        Message.objects.filter(pk=messages[0].pk).update(status=Message.Status.FAILED)
    newcomer = _opted_in(agency_a, ContactFactory(agency=agency_a))
    assert _send(agency_a, newcomer).business_initiated
    other = _opted_in(agency_a, ContactFactory(agency=agency_a))
    with pytest.raises(SendRefused) as refused:
        _send(agency_a, other)
    assert refused.value.details["reached"] == 250


def test_reconcile_drops_rows_older_than_the_window(agency_a, number):
    _business_initiated(number, _contacts(agency_a, 2), at=START)
    with agency_scope(agency_a):
        reach.reconcile(number.waba.portfolio_id, START + timedelta(days=2))
        assert not ReachedContact.objects.exists()


# --- reserve: what a campaign calls ----------------------------------------------------------


def test_reserve_admits_contacts_already_reached_and_new_ones_up_to_the_limit(agency_a, number):
    reached = _contacts(agency_a, 248)
    _business_initiated(number, reached)
    fresh = [ContactFactory(agency=agency_a).pk for _ in range(3)]
    with agency_scope(agency_a), transaction.atomic():
        result = reach.reserve(number.waba.portfolio_id, [reached[0].pk, *fresh], timezone.now())
    assert result.reached == {reached[0].pk, fresh[0], fresh[1]}
    assert result.refused == {fresh[2]}
    assert (result.limit, result.remaining) == (250, 0)


def test_reserve_all_or_nothing_records_nobody_when_the_new_ones_do_not_fit(agency_a, number):
    _business_initiated(number, _contacts(agency_a, 249))
    fresh = [ContactFactory(agency=agency_a).pk for _ in range(2)]
    with agency_scope(agency_a), transaction.atomic():
        result = reach.reserve(number.waba.portfolio_id, fresh, timezone.now(), partial=False)
        assert result.reached == frozenset() and result.refused == frozenset(fresh)
        assert reach.reached_count(number.waba.portfolio_id, timezone.now()) == 249


# --- concurrency -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_sends_racing_for_the_last_slot_exactly_one_wins(agency_a, number):
    _business_initiated(number, _contacts(agency_a, 249))
    racers = [_opted_in(agency_a, ContactFactory(agency=agency_a)) for _ in range(2)]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def race(contact: Contact) -> None:
        try:
            start.wait()
            _send(agency_a, contact)
            outcomes.append("sent")
        except SendRefused as refusal:
            outcomes.append(refusal.rule.value)
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(c,)) for c in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["sent", "tier_limit"]
    with agency_scope(agency_a):
        assert reach.reached_count(number.waba.portfolio_id, timezone.now()) == 250


# --- equivalence with the query it replaces ----------------------------------------------------


def _old_reached(number, now: datetime) -> set[int]:
    """The former policy query: distinct contacts of business-initiated messages of the
    portfolio in the 24 h before ``now`` that did not fail (or get cancelled)."""
    return set(
        Message.objects.filter(
            business_initiated=True,
            created_at__gt=now - reach.WINDOW,
            created_at__lte=now,
            phone_number__waba__portfolio=number.waba.portfolio,
        )
        .exclude(status__in=[Message.Status.FAILED, Message.Status.CANCELLED])
        .values_list("contact_id", flat=True)
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_maintained_count_equals_the_old_query_on_random_histories(agency_a, number, seed):
    """Sends, failures and cancellations in time order over three days; at every step the
    counter never under-counts, and after a reconcile it is exactly the old query."""
    rng = random.Random(seed)
    contacts = _contacts(agency_a, 40)
    ids = {c.pk for c in contacts}
    portfolio_id = number.waba.portfolio_id
    now = START
    messages: list = []
    for step in range(150):
        now += timedelta(minutes=rng.randrange(0, 60))
        if rng.random() < 0.7 or not messages:
            messages.extend(_business_initiated(number, [rng.choice(contacts)], at=now))
        else:  # a message that never reached the citizen
            message = rng.choice(messages)
            with agency_scope(agency_a):
                status = rng.choice([Message.Status.FAILED, Message.Status.CANCELLED])
                Message.objects.filter(pk=message.pk).update(status=status)
                if rng.random() < 0.5:  # released by its path; the others only by reconcile
                    reach.release(portfolio_id, [message.contact_id], now)
        with agency_scope(agency_a):
            old = _old_reached(number, now)
            # Stale rows only ever over-count, and never hide a contact who counts.
            assert reach.reached_count(portfolio_id, now) >= len(old)
            assert reach.not_reached(portfolio_id, ids, now) <= ids - old
            if step % 10 == 9:
                reach.reconcile(portfolio_id, now)
                assert reach.reached_count(portfolio_id, now) == len(old)
                assert reach.not_reached(portfolio_id, ids, now) == ids - old
