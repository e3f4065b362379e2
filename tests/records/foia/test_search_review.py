"""Search across the agency's records into a review set, the decisions, and the automatic
legal hold on the review set while the request is open (released when it closes)."""

from __future__ import annotations

import datetime as dt

import pytest

from bsp.events.models import DomainEvent
from bsp.events.types import RECORDS_REQUEST_CHANGED
from records.foia import services
from records.foia.errors import RequestError
from records.foia.models import RecordsRequest, RequestItem
from records.holds.models import LegalHold
from records.holds.selectors import held_message_ids
from records.selection import Selection
from tenants.scoping import agency_scope
from tests.factories import ConversationFactory
from tests.records.foia.conftest import ACTOR, federal, new_request

pytestmark = pytest.mark.django_db


def items(request) -> dict[int, str]:
    with agency_scope(request.agency_id):
        return dict(
            RequestItem.objects.filter(request=request).values_list("message_id", "decision")
        )


def held(agency) -> set[int]:
    with agency_scope(agency):
        return set(held_message_ids(agency.pk))


def test_a_full_text_search_adds_the_matching_messages_to_the_review_set(request_a, say):
    hit = say("The water main on Elm St. broke again")
    also = say("Is the WATER safe to drink?")
    say("Thanks for the pothole repair")
    added = services.run_search(request_a, actor=ACTOR, selection=Selection(query="water"))
    assert added == 2
    assert items(request_a) == {hit.pk: "pending", also.pk: "pending"}


def test_the_search_never_reaches_another_agencys_records(request_a, say, agency_b):
    say("water main")
    other = ConversationFactory(agency=agency_b)
    say("water main in agency B", conversation=other)
    services.run_search(request_a, actor=ACTOR, selection=Selection(query="water"))
    assert len(items(request_a)) == 1


def test_a_second_search_keeps_earlier_decisions_and_adds_only_new_messages(request_a, say):
    first = say("water main")
    services.run_search(request_a, actor=ACTOR, selection=Selection(query="water"))
    services.decide(request_a, actor=ACTOR, item_ids=_ids(request_a), decision="responsive")
    second = say("boil water notice")
    assert services.run_search(request_a, actor=ACTOR, selection=Selection(query="water")) == 1
    assert items(request_a) == {first.pk: "responsive", second.pk: "pending"}


def test_filters_narrow_the_search(request_a, say, agency_a, conversation_a):
    old = say("water main")
    with agency_scope(agency_a):
        type(old).objects.filter(pk=old.pk).update(
            created_at=dt.datetime(2024, 1, 5, tzinfo=dt.UTC)
        )
    recent = say("water main again")
    since = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    services.run_search(request_a, actor=ACTOR, selection=Selection(query="water", since=since))
    assert set(items(request_a)) == {recent.pk}


def test_an_empty_search_is_refused(request_a):
    with pytest.raises(RequestError, match="at least one search term"):
        services.run_search(request_a, actor=ACTOR, selection=Selection())


def test_hostile_search_words_find_nothing_rather_than_fail(request_a, say):
    say("water")
    for query in ['"unclosed', "a & | ! ( ) :*", "-", "'; DROP TABLE x; --", "\x00water"]:
        services.run_search(request_a, actor=ACTOR, selection=Selection(query=query))


def test_the_search_and_its_count_stay_on_record(request_a, say, agency_a):
    say("water main")
    services.run_search(request_a, actor=ACTOR, selection=Selection(query="water"))
    with agency_scope(agency_a):
        activity = request_a.activities.get(action="searched")
        published = DomainEvent.objects.filter(type=RECORDS_REQUEST_CHANGED).last()
    assert activity.data == {"selection": {"query": "water"}, "found": 1, "added": 1}
    assert published.payload["action"] == "searched"
    assert published.payload["status"] == "searching"


def _ids(request) -> list[int]:
    with agency_scope(request.agency_id):
        return list(RequestItem.objects.filter(request=request).values_list("pk", flat=True))


def test_withholding_in_full_needs_a_code_of_the_jurisdiction(request_a, say):
    say("water")
    services.run_search(request_a, actor=ACTOR, selection=Selection(query="water"))
    with pytest.raises(RequestError, match="Choose the exemption code"):
        services.decide(request_a, actor=ACTOR, item_ids=_ids(request_a), decision="withheld")
    services.decide(
        request_a, actor=ACTOR, item_ids=_ids(request_a), decision="withheld", code="(b)(5)"
    )
    with agency_scope(request_a.agency_id):
        assert RequestItem.objects.get().withheld_code == "(b)(5)"
        assert RecordsRequest.objects.get(pk=request_a.pk).status == "in_review"


def test_the_review_set_is_held_automatically_while_the_request_is_open(request_a, say, agency_a):
    responsive, other = say("water main"), say("water cooler chat")
    services.run_search(request_a, actor=ACTOR, selection=Selection(query="water"))
    assert held(agency_a) == {responsive.pk, other.pk}  # pending ones may be responsive
    with agency_scope(agency_a):
        other_item = RequestItem.objects.get(message=other)
    services.decide(request_a, actor=ACTOR, item_ids=[other_item.pk], decision="not_responsive")
    assert held(agency_a) == {responsive.pk}
    with agency_scope(agency_a):
        hold = LegalHold.objects.get(pk=RecordsRequest.objects.get(pk=request_a.pk).hold_id)
        assert hold.matter_id == f"Records request {request_a.number}"
        assert LegalHold.objects.filter(status="open").count() == 1  # the earlier one released


def test_closing_the_request_releases_its_hold(request_a, say, agency_a, settings, tmp_path):
    settings.RECORDS_PRODUCTIONS_DIR = str(tmp_path)
    message = say("water main")
    services.run_search(request_a, actor=ACTOR, selection=Selection(query="water"))
    services.decide(request_a, actor=ACTOR, item_ids=_ids(request_a), decision="responsive")
    services.produce(request_a, actor=ACTOR, fmt="jsonl", bates_prefix="R-", bates_start=1)
    assert held(agency_a) == {message.pk}
    closed = services.set_status(request_a, actor=ACTOR, status="closed", note="Sent by email")
    assert held(agency_a) == set()
    assert (closed.status, closed.hold_id) == ("closed", None)
    with pytest.raises(RequestError, match="closed"):
        services.run_search(closed, actor=ACTOR, selection=Selection(query="water"))


def test_a_request_with_responsive_records_cannot_close_before_a_production(request_a, say):
    say("water main")
    services.run_search(request_a, actor=ACTOR, selection=Selection(query="water"))
    services.decide(request_a, actor=ACTOR, item_ids=_ids(request_a), decision="responsive")
    with pytest.raises(RequestError, match="Produce the records before closing"):
        services.set_status(request_a, actor=ACTOR, status="closed")


def test_two_requests_holding_the_same_message_keep_it_held_until_both_close(
    agency_a, foia_a, request_a, say, settings, tmp_path
):
    settings.RECORDS_PRODUCTIONS_DIR = str(tmp_path)
    message = say("water main")
    second = new_request(agency_a, foia_a)
    for rr in (request_a, second):
        services.run_search(rr, actor=ACTOR, selection=Selection(query="water"))
        services.decide(rr, actor=ACTOR, item_ids=_ids(rr), decision="responsive")
    services.produce(request_a, actor=ACTOR, fmt="jsonl", bates_prefix="R-", bates_start=1)
    services.set_status(request_a, actor=ACTOR, status="closed")
    assert held(agency_a) == {message.pk}


def test_another_agencys_request_is_not_reachable_through_the_selectors(agency_a, agency_b):
    from records.foia import selectors

    other = new_request(agency_b, federal(agency_b))
    with agency_scope(agency_a), pytest.raises(RecordsRequest.DoesNotExist):
        selectors.request(agency_a, other.pk)


def test_an_open_requests_messages_cannot_be_deleted_and_a_closed_ones_follow_their_schedule(
    request_a, say, agency_a, settings, tmp_path
):
    from messaging.models import Message
    from records.holds import HeldRecordError
    from records.holds.services import ensure_messages_deletable

    settings.RECORDS_PRODUCTIONS_DIR = str(tmp_path)
    message = say("water main")
    services.run_search(request_a, actor=ACTOR, selection=Selection(query="water"))
    services.decide(request_a, actor=ACTOR, item_ids=_ids(request_a), decision="responsive")
    with agency_scope(agency_a), pytest.raises(HeldRecordError):
        ensure_messages_deletable([message.pk])
    services.produce(request_a, actor=ACTOR, fmt="jsonl", bates_prefix="R-", bates_start=1)
    services.set_status(request_a, actor=ACTOR, status="closed")
    with agency_scope(agency_a):
        ensure_messages_deletable([message.pk])  # no longer held
        Message.objects.filter(pk=message.pk).delete()  # as disposition does
        assert not RequestItem.objects.filter(request=request_a).exists()
        assert RecordsRequest.objects.get(pk=request_a.pk).productions.get().message_ids == [
            message.pk
        ]


def test_a_request_with_no_responsive_records_closes_with_a_note_and_no_production(
    request_a, say, agency_a
):
    say("water main")
    services.run_search(request_a, actor=ACTOR, selection=Selection(query="water"))
    services.decide(request_a, actor=ACTOR, item_ids=_ids(request_a), decision="not_responsive")
    with pytest.raises(RequestError, match="no-records response: say so in the note"):
        services.set_status(request_a, actor=ACTOR, status="closed")
    closed = services.set_status(
        request_a, actor=ACTOR, status="closed", note="Searched all numbers: no records."
    )
    assert closed.status == "closed" and held(agency_a) == set()


def test_a_request_whose_search_found_nothing_can_close_as_a_no_records_response(request_a):
    closed = services.set_status(
        request_a, actor=ACTOR, status="closed", note="No message matches."
    )
    assert closed.status == "closed"
