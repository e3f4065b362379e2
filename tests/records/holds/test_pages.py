"""The holds pages: records officers only; placing a hold with its live count, a hold's
page and its release; hostile input is refused in words, never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from records.holds.models import LegalHold
from records.holds.services import place_hold
from records.selection import Selection
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.records.holds.helpers import OFFICER, audit_of, conversation, say

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(make_member, client_for):
    return client_for(make_member(Role.RECORDS_OFFICER))


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR, Role.AGENCY_ADMIN])
def test_other_roles_get_403(make_member, client_for, role):
    client = client_for(make_member(role))
    for url in (reverse("records_holds:list"), reverse("records_holds:new")):
        assert client.get(url).status_code == 403


def test_the_list_shows_the_agencys_holds(officer, agency_a, agency_b):
    place_hold(
        agency_a.pk,
        matter_id="LIT-A",
        reason="x",
        owner_id=None,
        selection=Selection(),
        actor=OFFICER,
    )
    place_hold(
        agency_b.pk,
        matter_id="LIT-B",
        reason="x",
        owner_id=None,
        selection=Selection(),
        actor=OFFICER,
    )
    page = officer.get(reverse("records_holds:list")).content.decode()
    assert "LIT-A" in page and "LIT-B" not in page


def test_the_preview_counts_what_the_selection_covers(officer, agency_a):
    chat = conversation(agency_a)
    say(chat, "flooded basement")
    say(chat, "trash pickup")
    response = officer.get(reverse("records_holds:preview"), {"query": "flooded"})
    assert (
        "<strong>1</strong> message in <strong>1</strong> conversation" in response.content.decode()
    )


def test_placing_a_hold_from_the_form(officer, agency_a):
    chat = conversation(agency_a)
    say(chat)
    response = officer.post(
        reverse("records_holds:new"),
        {"matter_id": "LIT-2026-014", "reason": "Flood claims", "conversation_id": chat.pk},
    )
    with agency_scope(agency_a):
        hold = LegalHold.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("records_holds:detail", args=[hold.pk])
    assert hold.placed_by_label.endswith("@example.gov")
    page = officer.get(response["Location"]).content.decode()
    assert "<strong>1</strong> message in <strong>1</strong> conversation" in page
    assert f'<th scope="row">{chat.pk}</th>' in page  # the conversations held


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"reason": "x"}, "This field is required"),
        ({"matter_id": "M", "reason": "x", "conversation_id": "999999999999"}, "no conversation"),
        ({"matter_id": "M", "reason": "x", "conversation_id": "-1"}, "greater than or equal"),
        ({"matter_id": "M", "reason": "x", "since": "2026-13-45"}, "Enter a valid date"),
        (
            {"matter_id": "M", "reason": "x", "since": "2026-03-02", "until": "2026-03-01"},
            "before the start",
        ),
        ({"matter_id": "M", "reason": "x", "contact_wa_id": "<script>"}, "international format"),
        ({"matter_id": "M", "reason": "x", "phone_number": "abc"}, "Select a valid choice"),
        ({"matter_id": "M" * 101, "reason": "x"}, "at most 100"),
    ],
)
def test_hostile_input_is_refused_next_to_its_field(officer, data, error):
    response = officer.post(reverse("records_holds:new"), data)
    assert response.status_code == 200
    assert error in response.content.decode()


def test_a_query_with_nul_and_operators_never_500s(officer):
    response = officer.get(reverse("records_holds:preview"), {"query": "a\x00 & | ! ( -"})
    assert response.status_code == 200


def test_another_agencys_hold_is_404(officer, agency_b):
    hold = place_hold(
        agency_b.pk, matter_id="B", reason="x", owner_id=None, selection=Selection(), actor=OFFICER
    )
    assert officer.get(reverse("records_holds:detail", args=[hold.pk])).status_code == 404


def test_releasing_from_the_holds_page_is_audited(officer, agency_a):
    hold = place_hold(
        agency_a.pk,
        matter_id="LIT-1",
        reason="x",
        owner_id=None,
        selection=Selection(),
        actor=OFFICER,
    )
    url = reverse("records_holds:detail", args=[hold.pk])
    refused = officer.post(url, {"reason": ""})
    assert "This field is required" in refused.content.decode()
    assert officer.post(url, {"reason": "Settled"}).status_code == 302
    [event] = audit_of(agency_a, "records.legal_hold_released")
    assert event.changes["reason"] == "Settled"
    again = officer.post(url, {"reason": "Again"}, follow=True)
    assert "already released" in again.content.decode()


def test_the_forms_dates_are_whole_days_in_the_agencys_time_zone(officer, agency_a):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from records.holds import selectors

    chicago = ZoneInfo("America/Chicago")
    chat = conversation(agency_a)
    first = say(chat, at=datetime(2026, 2, 1, 0, 0, tzinfo=chicago))
    last = say(chat, at=datetime(2026, 2, 28, 23, 59, tzinfo=chicago))
    say(chat, at=datetime(2026, 1, 31, 23, 59, tzinfo=chicago))
    say(chat, at=datetime(2026, 3, 1, 0, 0, tzinfo=chicago))
    officer.post(
        reverse("records_holds:new"),
        {"matter_id": "M", "reason": "x", "since": "2026-02-01", "until": "2026-02-28"},
    )
    with agency_scope(agency_a):
        assert set(selectors.held_message_ids(agency_a.pk)) == {first.pk, last.pk}
