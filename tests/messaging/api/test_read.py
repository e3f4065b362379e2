"""GET /api/v1/messages/{id} (with its status history) and a conversation's thread."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.utils import timezone

from messaging.models import Message
from tenants.scoping import agency_scope
from tests.factories import InboundMessageFactory
from tests.messaging.api.conftest import deliver
from tests.messaging.conftest import CITIZEN

TEXT = {"to": f"+{CITIZEN}", "type": "text", "text": {"body": "Your permit is ready."}}


def test_a_queued_message_has_one_status_so_far(api, open_conversation):
    sent = api.send(TEXT).json()
    answer = api.get(f"/api/v1/messages/{sent['id']}")
    assert answer.status_code == 200
    assert [s["status"] for s in answer.json()["statuses"]] == ["queued"]


def test_the_history_shows_each_status_the_webhooks_recorded(
    api, registered_number, open_conversation, simulator, agency_a
):
    simulator.open_window(registered_number.phone_number_id, CITIZEN)
    sent = api.send(TEXT).json()
    deliver(agency_a, sent["id"])
    later = timezone.now() + timedelta(seconds=5)
    with agency_scope(agency_a):
        Message.objects.filter(pk=sent["id"]).update(
            status="read", sent_at=later, delivered_at=later, read_at=later + timedelta(1)
        )
    body = api.get(f"/api/v1/messages/{sent['id']}").json()
    assert [s["status"] for s in body["statuses"]] == [
        "queued",
        "accepted",
        "sent",
        "delivered",
        "read",
    ]
    assert body["wamid"].startswith("wamid.")


def test_a_failed_message_carries_meta_s_error_code(api, open_conversation, agency_a):
    sent = api.send(TEXT).json()
    with agency_scope(agency_a):
        Message.objects.filter(pk=sent["id"]).update(
            status="failed",
            failed_at=timezone.now(),
            error_code=131026,
            error_reason="Not on WhatsApp",
        )
    failed = api.get(f"/api/v1/messages/{sent['id']}").json()["statuses"][-1]
    assert (failed["status"], failed["error_code"]) == ("failed", 131026)


def test_another_agency_s_message_is_404(api, agency_b):
    theirs = InboundMessageFactory(agency=agency_b)
    assert api.get(f"/api/v1/messages/{theirs.pk}").status_code == 404


def test_a_huge_id_is_404_not_500(api):
    assert api.get(f"/api/v1/messages/{10**30}").status_code == 404


def _thread(agency, conversation, count: int) -> list[int]:
    ids = []
    start = timezone.now() - timedelta(hours=count)
    for i in range(count):
        with time_machine.travel(start + timedelta(hours=i), tick=False):
            ids.append(InboundMessageFactory(agency=agency, conversation=conversation).pk)
    return ids


def test_the_thread_lists_oldest_first_by_default(api, open_conversation, agency_a):
    ids = _thread(agency_a, open_conversation, 3)
    answer = api.get(f"/api/v1/conversations/{open_conversation.pk}/messages/")
    assert [m["id"] for m in answer.json()["results"]] == ids


def test_newest_first_on_request(api, open_conversation, agency_a):
    ids = _thread(agency_a, open_conversation, 3)
    path = f"/api/v1/conversations/{open_conversation.pk}/messages/"
    answer = api.get(path, ordering="-created_at")
    assert [m["id"] for m in answer.json()["results"]] == ids[::-1]


def test_pages_follow_the_cursor(api, open_conversation, agency_a):
    ids = _thread(agency_a, open_conversation, 3)
    path = f"/api/v1/conversations/{open_conversation.pk}/messages/"
    first = api.get(path, page_size=2).json()
    second = api.client.get(first["next"], **api_headers(api)).json()
    assert [m["id"] for m in first["results"] + second["results"]] == ids


def api_headers(api) -> dict[str, str]:
    from tests.api.helpers import bearer

    return bearer(api.key)


def test_direction_and_time_filters(api, open_conversation, agency_a):
    ids = _thread(agency_a, open_conversation, 3)
    api.send(TEXT)
    path = f"/api/v1/conversations/{open_conversation.pk}/messages/"
    inbound = api.get(path, direction="in").json()["results"]
    assert [m["id"] for m in inbound] == ids
    outbound = api.get(path, direction="out").json()["results"]
    assert [m["direction"] for m in outbound] == ["out"]
    with agency_scope(agency_a):
        second = Message.objects.get(pk=ids[1]).created_at
    bounded = api.get(path, since=second.isoformat(), until=(second + timedelta(1)).isoformat())
    assert ids[1] in [m["id"] for m in bounded.json()["results"]]
    assert ids[0] not in [m["id"] for m in bounded.json()["results"]]


def test_bad_filters_are_400(api, open_conversation):
    path = f"/api/v1/conversations/{open_conversation.pk}/messages/"
    assert api.get(path, direction="sideways").status_code == 400
    assert api.get(path, since="yesterday").status_code == 400
    assert api.get(path, cursor="garbage").json()["code"] == "invalid_cursor"


def test_another_agency_s_conversation_is_404(api, agency_b):
    from tests.factories import ConversationFactory

    theirs = ConversationFactory(agency=agency_b)
    assert api.get(f"/api/v1/conversations/{theirs.pk}/messages/").status_code == 404
