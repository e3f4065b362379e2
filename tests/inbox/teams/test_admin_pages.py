"""The inbox's admin pages: who may open them, another agency's ids, and what each form
does (audited, through the services)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.urls import reverse

from bsp.events.models import DomainEvent
from inbox.models import AgentStatus, BusinessHours, CannedResponse, Label, Team, TeamMember
from messaging.models import Conversation
from records.models import AuditEvent
from tenants.models import Agency
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import MembershipFactory, PhoneNumberFactory
from tests.inbox.teams.conftest import conversation_of, deliver_events, write_in
from tests.inbox.teams.factories import (
    BusinessHoursFactory,
    CannedResponseFactory,
    LabelFactory,
    TeamFactory,
    TeamPhoneNumberFactory,
)

pytestmark = pytest.mark.django_db

TEAMS_PAGES = [
    ("inbox:admin", None),
    ("inbox:admin_teams", None),
    ("inbox:admin_team_create", None),
    ("inbox:admin_team_edit", "team"),
    ("inbox:admin_team_delete", "team"),
    ("inbox:admin_agents", None),
    ("inbox:admin_canned", None),
    ("inbox:admin_canned_create", None),
    ("inbox:admin_canned_edit", "canned"),
    ("inbox:admin_canned_delete", "canned"),
    ("inbox:admin_labels", None),
    ("inbox:admin_label_edit", "label"),
    ("inbox:admin_label_delete", "label"),
]
AGENCY_PAGES = [
    ("inbox:admin_hours", None),
    ("inbox:admin_hours_edit", "number"),
    ("inbox:admin_agency", None),
]


@pytest.fixture
def objects_of() -> Callable[[Agency], dict[str, int]]:
    """One of each object an admin page is about, in ``agency``: their ids."""

    def make(agency: Agency) -> dict[str, int]:
        number = PhoneNumberFactory(agency=agency)
        BusinessHoursFactory(agency=agency, phone_number=number)
        return {
            "team": TeamFactory(agency=agency).pk,
            "canned": CannedResponseFactory(agency=agency).pk,
            "label": LabelFactory(agency=agency).pk,
            "number": number.pk,
        }

    return make


def _url(name: str, kind: str | None, ids: dict[str, int]) -> str:
    return reverse(name, args=[ids[kind]] if kind else [])


def _actions(agency: Agency) -> list[str]:
    with agency_scope(agency):
        return list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True))


def _event_types(agency: Agency) -> list[str]:
    with agency_scope(agency):
        return list(DomainEvent.objects.order_by("sequence").values_list("type", flat=True))


@pytest.mark.parametrize(("name", "kind"), TEAMS_PAGES + AGENCY_PAGES)
def test_every_admin_page_renders_for_an_agency_admin(
    admin_client, agency_a, objects_of, name, kind
):
    response = admin_client.get(_url(name, kind, objects_of(agency_a)))

    assert response.status_code == 200
    assert b"usa-sidenav" in response.content


@pytest.mark.parametrize(("name", "kind"), TEAMS_PAGES + AGENCY_PAGES)
def test_every_admin_page_is_forbidden_to_an_agent(agent_client, agency_a, objects_of, name, kind):
    assert agent_client.get(_url(name, kind, objects_of(agency_a))).status_code == 403


@pytest.mark.parametrize(("name", "kind"), TEAMS_PAGES)
def test_a_supervisor_manages_teams_labels_and_canned_responses(
    client_for, make_member, agency_a, objects_of, name, kind
):
    client = client_for(make_member(Role.SUPERVISOR))
    assert client.get(_url(name, kind, objects_of(agency_a))).status_code == 200


@pytest.mark.parametrize(("name", "kind"), AGENCY_PAGES)
def test_business_hours_and_agency_settings_are_for_agency_admins_only(
    client_for, make_member, agency_a, objects_of, name, kind
):
    client = client_for(make_member(Role.SUPERVISOR))
    assert client.get(_url(name, kind, objects_of(agency_a))).status_code == 403


@pytest.mark.parametrize(
    ("name", "kind"), [(name, kind) for name, kind in TEAMS_PAGES + AGENCY_PAGES if kind]
)
def test_another_agencys_object_is_not_found(admin_client, agency_b, objects_of, name, kind):
    url = _url(name, kind, objects_of(agency_b))

    assert admin_client.get(url).status_code == 404
    assert admin_client.post(url, {}).status_code == 404


def test_another_agencys_agent_capacity_is_not_found(admin_client, agency_b):
    outsider = MembershipFactory(agency=agency_b, role=Role.AGENT).user
    url = reverse("inbox:admin_agent_capacity", args=[outsider.pk])

    assert admin_client.post(url, {"capacity": 5}).status_code == 404


# --- Teams -------------------------------------------------------------------------------


def test_an_admin_creates_a_team_with_members_and_numbers(admin_client, agency_a, agent_a):
    number = PhoneNumberFactory(agency=agency_a)
    response = admin_client.post(
        reverse("inbox:admin_team_create"),
        {
            "name": "Benefits",
            "auto_assign": "on",
            "members": [agent_a.user.pk],
            "phone_numbers": [number.pk],
        },
    )

    assert response.status_code == 302
    with agency_scope(agency_a):
        team = Team.objects.get(name="Benefits")
        assert team.auto_assign
        assert list(TeamMember.objects.filter(team=team).values_list("user_id", flat=True)) == [
            agent_a.user.pk
        ]
        assert list(team.phone_numbers.all()) == [number]
    assert "team.created" in _actions(agency_a)
    assert "team.changed" in _event_types(agency_a)


def test_the_team_form_offers_only_staff_who_can_reply(admin_client, agency_a, agent_a):
    officer = MembershipFactory(agency=agency_a, role=Role.RECORDS_OFFICER).user
    page = admin_client.get(reverse("inbox:admin_team_create")).content.decode()
    assert agent_a.user.email in page
    assert officer.email not in page

    response = admin_client.post(
        reverse("inbox:admin_team_create"), {"name": "Records", "members": [officer.pk]}
    )

    assert response.status_code == 200
    assert "is not one of the available choices" in response.content.decode()
    with agency_scope(agency_a):
        assert not Team.objects.exists()


def test_a_number_routed_to_another_team_is_refused(admin_client, agency_a):
    number = PhoneNumberFactory(agency=agency_a, display_phone_number="+1 555 0199")
    TeamPhoneNumberFactory(
        agency=agency_a, team=TeamFactory(agency=agency_a, name="Permits"), phone_number=number
    )

    response = admin_client.post(
        reverse("inbox:admin_team_create"), {"name": "Benefits", "phone_numbers": [number.pk]}
    )

    assert response.status_code == 200
    assert "+1 555 0199 is already routed to the team “Permits”" in response.content.decode()


def test_a_duplicate_team_name_is_refused(admin_client, agency_a):
    TeamFactory(agency=agency_a, name="Benefits")

    response = admin_client.post(reverse("inbox:admin_team_create"), {"name": "benefits"})

    assert response.status_code == 200
    assert "There is already a team called “benefits”" in response.content.decode()


def test_turning_automatic_assignment_on_hands_out_the_waiting_queue(
    admin_client, agency_a, agent_in
):
    number = PhoneNumberFactory(agency=agency_a)
    team = TeamFactory(agency=agency_a, name="Benefits", auto_assign=False)
    TeamPhoneNumberFactory(agency=agency_a, team=team, phone_number=number)
    agent = agent_in(team, capacity=5)
    waiting = write_in(number)
    deliver_events()
    assert conversation_of(waiting).assignee_id is None

    admin_client.post(
        reverse("inbox:admin_team_edit", args=[team.pk]),
        {
            "name": "Benefits",
            "auto_assign": "on",
            "members": [agent.pk],
            "phone_numbers": [number.pk],
        },
    )
    deliver_events()

    assert conversation_of(waiting).assignee_id == agent.pk


def test_deleting_a_team_keeps_its_conversations(admin_client, agency_a, agent_in):
    number = PhoneNumberFactory(agency=agency_a)
    team = TeamFactory(agency=agency_a)
    TeamPhoneNumberFactory(agency=agency_a, team=team, phone_number=number)
    conversation = conversation_of(write_in(number))
    deliver_events()

    response = admin_client.post(reverse("inbox:admin_team_delete", args=[team.pk]))

    assert response.status_code == 302
    with agency_scope(agency_a):
        assert not Team.objects.exists()
        assert Conversation.objects.get(pk=conversation.pk).team_id is None
    assert "team.deleted" in _actions(agency_a)


def test_a_suspended_agency_cannot_create_a_team(admin_client, agency_a):
    Agency.objects.filter(pk=agency_a.pk).update(status=Agency.Status.SUSPENDED)

    response = admin_client.post(reverse("inbox:admin_team_create"), {"name": "Benefits"})

    assert "is suspended" in response.content.decode()
    with agency_scope(agency_a):
        assert not Team.objects.exists()


def test_an_admin_sets_an_agents_capacity(admin_client, agency_a, agent_a):
    response = admin_client.post(
        reverse("inbox:admin_agent_capacity", args=[agent_a.user.pk]), {"capacity": 7}
    )

    assert response.status_code == 302
    with agency_scope(agency_a):
        status = AgentStatus.objects.get(user=agent_a.user)
    assert (status.capacity, status.availability) == (7, "away")
    assert "agent.availability" in _actions(agency_a)


def test_a_capacity_out_of_range_is_refused(admin_client, agency_a, agent_a):
    url = reverse("inbox:admin_agent_capacity", args=[agent_a.user.pk])
    response = admin_client.post(url, {"capacity": 500}, follow=True)

    assert "Capacity must be a whole number from 1 to 100" in response.content.decode()


# --- Canned responses --------------------------------------------------------------------


def test_an_admin_creates_a_canned_response(admin_client, agency_a, admin_a):
    response = admin_client.post(
        reverse("inbox:admin_canned_create"),
        {"shortcut": "/Greeting", "title": "Greeting", "body": "Hello! How can we help?"},
    )

    assert response.status_code == 302
    with agency_scope(agency_a):
        canned = CannedResponse.objects.get()
    assert (canned.shortcut, canned.created_by_id) == ("greeting", admin_a.user.pk)
    assert "canned_response.created" in _actions(agency_a)


def test_a_shortcut_already_used_shows_a_clear_error(admin_client, agency_a):
    CannedResponseFactory(agency=agency_a, shortcut="greeting", title="Hello")

    response = admin_client.post(
        reverse("inbox:admin_canned_create"),
        {"shortcut": "greeting", "title": "Another", "body": "Hi"},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "The shortcut /greeting is already used by “Hello”: choose another one." in page
    assert "usa-form-group--error" in page
    with agency_scope(agency_a):
        assert CannedResponse.objects.count() == 1


def test_the_same_shortcut_is_free_in_another_agency(admin_client, agency_a, agency_b):
    CannedResponseFactory(agency=agency_b, shortcut="greeting")

    response = admin_client.post(
        reverse("inbox:admin_canned_create"),
        {"shortcut": "greeting", "title": "Hello", "body": "Hi"},
    )

    assert response.status_code == 302


def test_an_admin_edits_and_deletes_a_canned_response(admin_client, agency_a):
    canned = CannedResponseFactory(agency=agency_a, shortcut="hours")

    admin_client.post(
        reverse("inbox:admin_canned_edit", args=[canned.pk]),
        {"shortcut": "opening-hours", "title": "Opening hours", "body": "9 to 5."},
    )
    with agency_scope(agency_a):
        assert CannedResponse.objects.get().shortcut == "opening-hours"
    admin_client.post(reverse("inbox:admin_canned_delete", args=[canned.pk]))

    with agency_scope(agency_a):
        assert not CannedResponse.objects.exists()
    assert _actions(agency_a)[-2:] == ["canned_response.updated", "canned_response.deleted"]


# --- Labels ------------------------------------------------------------------------------


def test_an_admin_creates_renames_and_deletes_a_label(admin_client, agency_a):
    admin_client.post(reverse("inbox:admin_labels"), {"name": "Urgent"})
    with agency_scope(agency_a):
        label = Label.objects.get()
    admin_client.post(reverse("inbox:admin_label_edit", args=[label.pk]), {"name": "Priority"})
    with agency_scope(agency_a):
        assert Label.objects.get().name == "Priority"
    admin_client.post(reverse("inbox:admin_label_delete", args=[label.pk]))

    with agency_scope(agency_a):
        assert not Label.objects.exists()
    assert _actions(agency_a)[-3:] == ["label.created", "label.renamed", "label.deleted"]


def test_a_duplicate_label_is_refused(admin_client, agency_a):
    LabelFactory(agency=agency_a, name="Urgent")

    response = admin_client.post(reverse("inbox:admin_labels"), {"name": "URGENT"})

    assert "There is already a label called “URGENT”" in response.content.decode()


# --- Business hours and agency settings --------------------------------------------------


def _hours_form(**overrides: str) -> dict[str, str]:
    form = {
        "enabled": "on",
        "away_message": "We are closed; we answer on weekdays from 9 to 5.",
        "away_cooldown_hours": "12",
        "mon_open": "09:00",
        "mon_close": "17:00",
        "fri_open": "22:00",
        "fri_close": "02:00",
    }
    form.update(overrides)
    return form


def test_an_admin_sets_a_numbers_business_hours(admin_client, agency_a):
    number = PhoneNumberFactory(agency=agency_a)

    response = admin_client.post(reverse("inbox:admin_hours_edit", args=[number.pk]), _hours_form())

    assert response.status_code == 302
    with agency_scope(agency_a):
        hours = BusinessHours.objects.get(phone_number=number)
    assert hours.enabled
    assert hours.weekly == {"mon": [["09:00", "17:00"]], "fri": [["22:00", "02:00"]]}
    assert "business_hours.updated" in _actions(agency_a)
    page = admin_client.get(reverse("inbox:admin_hours")).content.decode()
    assert "22:00 to 02:00 (next day)" in page


def test_the_hours_form_shows_the_saved_hours(admin_client, agency_a):
    number = PhoneNumberFactory(agency=agency_a)
    BusinessHoursFactory(agency=agency_a, phone_number=number)

    page = admin_client.get(reverse("inbox:admin_hours_edit", args=[number.pk])).content.decode()

    assert 'name="mon_open" id="id_mon_open" value="09:00"' in page


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"mon_close": ""}, "Give both times for Monday, or neither (closed)."),
        ({"mon_close": "09:00"}, "Monday closes when it opens"),
        ({"away_message": "  "}, "Write the message citizens get outside these hours."),
        ({"away_cooldown_hours": "0"}, "greater than or equal to 1"),
        ({"mon_open": "25:99"}, "Enter a valid time."),
    ],
)
def test_invalid_business_hours_are_explained(admin_client, agency_a, overrides, error):
    number = PhoneNumberFactory(agency=agency_a)

    response = admin_client.post(
        reverse("inbox:admin_hours_edit", args=[number.pk]), _hours_form(**overrides)
    )

    assert response.status_code == 200
    assert error in response.content.decode()


def test_an_admin_changes_the_agencys_settings(admin_client, agency_a):
    response = admin_client.post(
        reverse("inbox:admin_agency"),
        {
            "name": "Agency A of the County",
            "timezone": "America/New_York",
            "contact_email": "help@agency-a.gov",
        },
    )

    assert response.status_code == 302
    agency_a.refresh_from_db()
    assert (agency_a.name, agency_a.timezone) == ("Agency A of the County", "America/New_York")
    with agency_scope(agency_a):
        event = AuditEvent.objects.get(action="agency.settings_changed")
    assert event.changes["timezone"] == ["America/Chicago", "America/New_York"]


def test_an_admin_sends_marketing_templates_through_the_marketing_messages_api(
    admin_client, agency_a
):
    response = admin_client.post(
        reverse("inbox:admin_agency"),
        {
            "name": agency_a.name,
            "timezone": agency_a.timezone,
            "keyword_opt_in_allowed": "on",
            "marketing_messages_api": "on",
        },
    )

    assert response.status_code == 302
    agency_a.refresh_from_db()
    assert (agency_a.marketing_messages_api, agency_a.keyword_opt_in_allowed) == (True, True)
    with agency_scope(agency_a):
        event = AuditEvent.objects.get(action="agency.settings_changed")
    assert event.changes == {"marketing_messages_api": [False, True]}


def test_an_admin_stops_keywords_from_opting_citizens_back_in(admin_client, agency_a):
    admin_client.post(
        reverse("inbox:admin_agency"), {"name": agency_a.name, "timezone": agency_a.timezone}
    )

    agency_a.refresh_from_db()
    assert agency_a.keyword_opt_in_allowed is False


def test_an_unknown_time_zone_is_refused(admin_client, agency_a):
    response = admin_client.post(
        reverse("inbox:admin_agency"), {"name": "Agency A", "timezone": "Mars/Olympus"}
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


# --- My availability ---------------------------------------------------------------------


def test_an_agent_sets_themselves_available_and_returns_to_their_page(agent_client, agent_a):
    response = agent_client.post(
        reverse("inbox:availability"), {"availability": "available", "next": "/inbox/?mine=1"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/inbox/?mine=1"
    with agency_scope(agent_a.agency):
        assert AgentStatus.objects.get(user=agent_a.user).availability == "available"


def test_the_availability_form_goes_back_only_to_our_own_pages(agent_client):
    response = agent_client.post(
        reverse("inbox:availability"),
        {"availability": "away", "next": "https://evil.example/phish"},
    )

    assert response["Location"] == reverse("inbox:conversations")


def test_with_htmx_the_availability_form_is_swapped_in_place(agent_client):
    response = agent_client.post(
        reverse("inbox:availability"),
        {"availability": "available", "next": "/inbox/"},
        HTTP_HX_REQUEST="true",
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Set me away" in page
    assert 'name="next" value="/inbox/"' in page


def test_hostile_availability_input_is_refused_without_an_error_page(agent_client, agent_a):
    response = agent_client.post(
        reverse("inbox:availability"), {"availability": "<script>", "next": "\x00"}, follow=True
    )

    assert response.status_code == 200
    assert "Choose available or away." in response.content.decode()


def test_a_records_officer_has_no_availability(client_for, make_member):
    client = client_for(make_member(Role.RECORDS_OFFICER))

    assert (
        client.post(reverse("inbox:availability"), {"availability": "available"}).status_code == 403
    )


def test_the_inbox_page_shows_an_agent_their_availability(agent_client, agent_a):
    with agency_scope(agent_a.agency):
        AgentStatus.objects.create(agency=agent_a.agency, user=agent_a.user)

    page = agent_client.get(reverse("inbox:conversations")).content.decode()

    assert "Set me available" in page
    assert 'hx-post="/inbox/me/availability/"' in page


def test_a_member_who_cannot_reply_is_not_offered_an_availability(client_for, make_member):
    client = client_for(make_member(Role.RECORDS_OFFICER))

    page = client.get(reverse("inbox:conversations")).content.decode()

    assert "Set me available" not in page


@pytest.mark.parametrize(
    "form",
    [
        {"name": "Benefits", "members": ["99999999999999999999999"]},
        {"name": "Benefits", "members": ["1 OR 1=1"], "phone_numbers": ["\x00"]},
        {"name": "\x00"},
        {"name": "x" * 5000},
    ],
)
def test_hostile_team_forms_are_refused_without_an_error_page(admin_client, form):
    response = admin_client.post(reverse("inbox:admin_team_create"), form)

    assert response.status_code == 200
    assert "with what you entered" in response.content.decode()


@pytest.mark.parametrize(
    "form",
    [
        {"mon_open": "\x00", "mon_close": "17:00"},
        {"mon_open": "09:00", "mon_close": "99:99:99"},
        {"away_cooldown_hours": "1e309"},
        {"away_message": "a" * 5000},
    ],
)
def test_hostile_business_hours_are_refused_without_an_error_page(admin_client, agency_a, form):
    number = PhoneNumberFactory(agency=agency_a)

    response = admin_client.post(
        reverse("inbox:admin_hours_edit", args=[number.pk]), _hours_form(**form)
    )

    assert response.status_code == 200
    assert "with what you entered" in response.content.decode()


def test_an_enormous_id_in_the_url_is_not_found(admin_client):
    assert admin_client.get("/inbox/admin/teams/99999999999999999999999/").status_code == 404
