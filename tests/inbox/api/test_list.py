"""GET /api/v1/conversations/: the inbox's list for integrators, with the inbox's own
filters, newest activity first, by cursor."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inbox import services
from messaging.models import Conversation
from records.audit import Actor
from tenants.scoping import agency_scope
from tests.factories import ContactFactory, ConversationFactory, PhoneNumberFactory
from tests.inbox.factories import ActiveConversationFactory, LabelFactory, TeamFactory

pytestmark = pytest.mark.django_db
URL = reverse("api-conversations")
ACTOR = Actor.system("test")


def _ids(client, auth, **params) -> list[int]:
    response = client.get(URL, params, **auth)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def _active(agency, minutes_ago: int, **fields) -> Conversation:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return ActiveConversationFactory(
        agency=agency, last_message_at=at, last_inbound_at=at, waiting_since=at, **fields
    )


def test_conversations_are_listed_newest_activity_first(client, agency_a, reader):
    old, new, middle = _active(agency_a, 30), _active(agency_a, 1), _active(agency_a, 10)
    assert _ids(client, reader) == [new.pk, middle.pk, old.pk]


def test_every_status_is_listed_unless_one_is_asked_for(client, agency_a, reader):
    open_ = _active(agency_a, 1)
    resolved = _active(agency_a, 2, status=Conversation.Status.RESOLVED)
    assert _ids(client, reader) == [open_.pk, resolved.pk]
    assert _ids(client, reader, status="resolved") == [resolved.pk]
    assert _ids(client, reader, status="open") == [open_.pk]
    assert _ids(client, reader, status="any") == [open_.pk, resolved.pk]


def test_a_conversation_nobody_wrote_in_yet_is_not_listed(client, agency_a, reader):
    ConversationFactory(agency=agency_a)
    assert _ids(client, reader) == []


def test_the_assignee_filter_takes_a_user_id_or_none(client, agency_a, reader, member):
    agent = member()
    mine = _active(agency_a, 1, assignee=agent)
    nobodys = _active(agency_a, 2)
    _active(agency_a, 3, assignee=member())
    assert _ids(client, reader, assignee=agent.pk) == [mine.pk]
    assert _ids(client, reader, assignee="none") == [nobodys.pk]


def test_the_team_filter(client, agency_a, reader):
    team = TeamFactory(agency=agency_a)
    theirs = _active(agency_a, 1, team=team)
    _active(agency_a, 2)
    assert _ids(client, reader, team=team.pk) == [theirs.pk]


def test_the_label_filter_takes_an_id_or_a_name(client, agency_a, reader):
    label = LabelFactory(agency=agency_a, name="permits")
    labelled = _active(agency_a, 1)
    _active(agency_a, 2)
    with agency_scope(agency_a):
        services.set_labels(actor=ACTOR, conversation=labelled, labels=[label])
    assert _ids(client, reader, label=label.pk) == [labelled.pk]
    assert _ids(client, reader, label="permits") == [labelled.pk]


def test_an_unknown_label_name_is_a_400(client, agency_a, reader):
    response = client.get(URL, {"label": "no-such-label"}, **reader)
    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "/label"


def test_the_phone_number_filter(client, agency_a, reader):
    number = PhoneNumberFactory(agency=agency_a)
    on_it = _active(agency_a, 1, phone_number=number)
    _active(agency_a, 2)
    assert _ids(client, reader, phone_number=number.pk) == [on_it.pk]


def test_the_contact_filter(client, agency_a, reader):
    contact = ContactFactory(agency=agency_a)
    theirs = _active(agency_a, 1, contact=contact)
    _active(agency_a, 2)
    assert _ids(client, reader, contact=contact.pk) == [theirs.pk]


def test_updated_since_keeps_the_conversations_active_at_or_after_it(client, agency_a, reader):
    recent = _active(agency_a, 5)
    _active(agency_a, 120)
    since = (timezone.now() - timedelta(minutes=60)).isoformat()
    assert _ids(client, reader, updated_since=since) == [recent.pk]


def test_filters_combine(client, agency_a, reader, member):
    agent, team = member(), TeamFactory(agency=agency_a)
    both = _active(agency_a, 1, assignee=agent, team=team)
    _active(agency_a, 2, assignee=agent)
    _active(agency_a, 3, team=team)
    assert _ids(client, reader, assignee=agent.pk, team=team.pk) == [both.pk]


def test_a_row_shows_the_contact_in_e164_the_number_and_the_labels(client, agency_a, reader):
    contact = ContactFactory(agency=agency_a, wa_id="14155550123", phone_e164="+14155550123")
    number = PhoneNumberFactory(agency=agency_a, display_phone_number="+1 555 0100")
    conversation = _active(agency_a, 1, contact=contact, phone_number=number)
    with agency_scope(agency_a):
        labels = [LabelFactory(agency=agency_a, name=n) for n in ("urgent", "permits")]
        services.set_labels(actor=ACTOR, conversation=conversation, labels=labels)
    [row] = client.get(URL, **reader).json()["results"]
    assert row["contact"] == {
        "id": contact.pk,
        "phone": "+14155550123",
        "name": contact.profile_name,
    }
    assert row["phone_number"]["phone"] == "+15550100"
    assert row["labels"] == ["permits", "urgent"]


def test_pages_follow_the_cursor_without_repeating_a_conversation(client, agency_a, reader):
    made = [_active(agency_a, minutes) for minutes in range(1, 6)]
    seen: list[int] = []
    response = client.get(URL, {"page_size": 2}, **reader)
    while True:
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        if not body["next"]:
            break
        response = client.get(body["next"], **reader)
    assert seen == [c.pk for c in made]


def test_conversations_with_the_same_last_activity_are_all_paged(client, agency_a, reader):
    at = timezone.now() - timedelta(minutes=3)
    made = {ActiveConversationFactory(agency=agency_a, last_message_at=at).pk for _ in range(5)}
    first = client.get(URL, {"page_size": 2}, **reader).json()
    second = client.get(first["next"], **reader).json()
    third = client.get(second["next"], **reader).json()
    pages = [first, second, third]
    assert {row["id"] for page in pages for row in page["results"]} == made
    assert third["next"] is None


def test_a_made_up_cursor_is_a_400(client, reader):
    response = client.get(URL + "?cursor=%%%garbage", **reader)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


def test_a_cursor_with_a_forged_position_is_a_400_not_a_500(client, agency_a, reader):
    _active(agency_a, 1)
    forged = base64.b64encode(b"p=not-a-time").decode()
    response = client.get(URL, {"cursor": forged}, **reader)
    assert response.status_code == 400, response.content


def test_a_page_costs_the_same_queries_however_many_rows_it_has(client, agency_a, reader):
    team, label = TeamFactory(agency=agency_a), LabelFactory(agency=agency_a)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, **reader).status_code == 200
        return len(captured)

    conversation = _active(agency_a, 1, team=team)
    with agency_scope(agency_a):
        services.set_labels(actor=ACTOR, conversation=conversation, labels=[label])
    queries()  # the key's first use records its last-used time
    one = queries()
    for minutes in range(2, 12):
        _active(agency_a, minutes, team=team, assignee=None)
    assert queries() == one


@pytest.mark.parametrize(
    ("params", "pointer"),
    [
        ({"status": "closed"}, "/status"),
        ({"assignee": "me"}, "/assignee"),
        ({"assignee": "-3"}, "/assignee"),
        ({"team": "abc"}, "/team"),
        ({"team": str(2**70)}, "/team"),
        ({"phone_number": "0"}, "/phone_number"),
        ({"contact": "1.5"}, "/contact"),
        ({"updated_since": "yesterday"}, "/updated_since"),
        ({"label": "x" * 51}, "/label"),
    ],
    ids=str,
)
def test_a_malformed_filter_is_a_400_naming_it(client, reader, params, pointer):
    response = client.get(URL, params, **reader)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert [e["pointer"] for e in response.json()["errors"]] == [pointer]


def test_another_agencys_ids_in_a_filter_match_nothing(client, agency_a, agency_b, reader):
    _active(agency_a, 1)
    team_b = TeamFactory(agency=agency_b)
    _active(agency_b, 1, team=team_b)
    assert _ids(client, reader, team=team_b.pk) == []
