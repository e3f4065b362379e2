"""A contact's consent state is derived from the history by the send policy's own rule:
the bulk readers (imports, the directory's filter) agree with policy.check_opt_in on every
combination of general and topic histories."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.consent import selectors
from messaging.consent.selectors import State
from messaging.models import Consent, Contact
from tests.factories import ConsentFactory, ContactFactory

pytestmark = pytest.mark.django_db
HISTORIES = [None, "opted_in", "opted_out", "opted_out,opted_in", "opted_in,opted_out"]


def _history(contact: Contact, topic: str, history: str | None) -> None:
    start = timezone.now() - timedelta(days=1)
    for step, status in enumerate((history or "").split(",") if history else []):
        ConsentFactory(
            agency=contact.agency,
            contact=contact,
            topic=topic,
            status=status,
            recorded_at=start + timedelta(minutes=step),
        )


@pytest.fixture
def every_combination(agency_a):
    """One contact per (general history, topic history)."""
    made = {}
    for general, specific in itertools.product(HISTORIES, HISTORIES):
        contact = ContactFactory(agency=agency_a)
        _history(contact, "", general)
        _history(contact, "alerts", specific)
        made[(general, specific)] = contact
    return made


def test_the_bulk_rule_agrees_with_the_send_policy_on_every_history(every_combination, scope_a):
    pairs = [(c.pk, topic) for c in every_combination.values() for topic in ("", "alerts")]
    bulk = selectors.effective_states(pairs)
    for contact in every_combination.values():
        for topic in ("", "alerts"):
            assert bulk[(contact.pk, topic)] == selectors.state_of(contact, topic), (
                contact,
                topic,
            )


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("topic", ["", "alerts"])
def test_the_directory_filter_agrees_with_the_send_policy(
    every_combination, agency_a, scope_a, state, topic
):
    found = set(
        selectors.with_state(Contact.objects.filter(agency=agency_a), topic, state).values_list(
            "pk", flat=True
        )
    )
    expected = {c.pk for c in every_combination.values() if selectors.state_of(c, topic) == state}
    assert found == expected


def test_an_opt_out_of_everything_wins_over_a_newer_topic_opt_in(agency_a, scope_a):
    contact = ContactFactory(agency=agency_a)
    _history(contact, "", "opted_out")
    _history(contact, "alerts", "opted_in")
    assert selectors.state_of(contact, "alerts") == State.OPTED_OUT


def test_the_newest_record_decides_and_nothing_is_overwritten(agency_a, scope_a):
    contact = ContactFactory(agency=agency_a)
    _history(contact, "", "opted_in,opted_out,opted_in")
    assert selectors.state_of(contact) == State.OPTED_IN
    assert [c.status for c in selectors.history(contact)] == [
        Consent.Status.OPTED_IN,
        Consent.Status.OPTED_OUT,
        Consent.Status.OPTED_IN,
    ]
