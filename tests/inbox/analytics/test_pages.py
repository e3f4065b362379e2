"""``/inbox/analytics/`` and its CSV: medians, periods, the same figures in both, a fixed
number of queries that never touch the messages table, and who may see them."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from inbox.analytics.models import NONE, ConversationFact, DailyStat
from inbox.analytics.selectors import analytics_report
from inbox.analytics.templatetags.analytics_tags import NO_FIGURE
from tenants.models import Membership
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import ConversationFactory, MembershipFactory
from tests.inbox.factories import TeamFactory

pytestmark = pytest.mark.django_db

DAY = date(2026, 1, 15)
NINE = datetime(2026, 1, 15, 15, 0, tzinfo=UTC)  # 09:00 in Chicago
AFTERNOON = NINE + timedelta(hours=6)


def minutes(n: float) -> datetime:
    return NINE + timedelta(minutes=n)


def signed_in(membership: Membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def get(client: Client, url: str, **params: str):
    with time_machine.travel(AFTERNOON, tick=False):
        return client.get(url, params)


def answered_after(inbox, agent, delays: list[float]) -> None:
    """One conversation per delay (minutes), each answered by ``agent`` after it."""
    for n, delay in enumerate(delays):
        conversation = inbox.citizen_writes(f"1415555{n:04d}", minutes(n))
        inbox.staff_replies(conversation, agent.user, minutes(n + delay))
    inbox.dispatch()


def test_the_median_first_response_is_the_middle_conversation_s(inbox, agency_a, agent_one):
    answered_after(inbox, agent_one, [1, 2, 30])  # a mean would say 11 minutes

    with agency_scope(agency_a):
        report = analytics_report(agency=agency_a, start=DAY, end=DAY)
    assert report.total.median_first_response == 120


def test_an_even_number_of_conversations_has_the_mean_of_the_two_middle_ones(
    inbox, agency_a, agent_one
):
    answered_after(inbox, agent_one, [1, 2, 4, 30])

    with agency_scope(agency_a):
        report = analytics_report(agency=agency_a, start=DAY, end=DAY)
    assert report.total.median_first_response == 180
    assert report.by_day[0][1].median_first_response == 180


def test_the_median_resolution_time_is_over_the_conversations_resolved_in_the_period(
    inbox, agency_a
):
    for n, resolved_after in enumerate([10, 20, 90]):
        conversation = inbox.citizen_writes(f"1415555{n:04d}", minutes(n))
        inbox.resolve(conversation, minutes(n + resolved_after))
    inbox.dispatch()

    with agency_scope(agency_a):
        report = analytics_report(agency=agency_a, start=DAY, end=DAY)
    assert (report.total.resolved, report.total.median_resolution) == (3, 20 * 60)


def test_the_page_shows_the_period_s_figures_charts_and_tables(inbox, supervisor_a, agent_one):
    answered_after(inbox, agent_one, [2, 4, 6])

    response = get(signed_in(supervisor_a), "/inbox/analytics/", range="7")

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<svg class=") == 4
    assert '<title id="chart-conversations-title">Conversations opened and resolved' in page
    assert 'aria-labelledby="chart-response-title chart-response-desc"' in page
    day_row = re.search(
        r"<th scope=\"row\" data-label=\"Day\">Thu 15 Jan 2026</th>(.*?)</tr>", page, re.S
    )
    assert day_row is not None
    cells = re.findall(r"<td data-label=\"[^\"]+\">([^<]*)</td>", day_row.group(1))
    assert cells == [
        "3",
        "0",
        "4 min",
        NO_FIGURE,
        "3",
        "3",
        "0.0 %",
        NO_FIGURE,
    ]  # none delivered yet
    assert response.context["report"].start == DAY - timedelta(days=6)


def test_a_custom_period_is_shown_and_a_wrong_one_falls_back_to_30_days(supervisor_a):
    client = signed_in(supervisor_a)

    custom = get(client, "/inbox/analytics/", range="custom", start="2026-01-01", end="2026-01-10")
    backwards = get(
        client, "/inbox/analytics/", range="custom", start="2026-01-10", end="2026-01-01"
    )

    assert (custom.context["report"].start, custom.context["report"].end) == (
        date(2026, 1, 1),
        date(2026, 1, 10),
    )
    assert backwards.status_code == 200
    assert "must end on or after" in backwards.content.decode()
    assert backwards.context["report"].start == DAY - timedelta(days=29)


@pytest.mark.parametrize(
    "params",
    [
        {"range": "custom", "start": "2026-13-45", "end": "x"},
        {"range": "custom", "start": "1900-01-01", "end": "9999-12-31"},
        {"range": "<script>", "team": "99999999999999999999999", "agent": "-1"},
        {"team": "\x00", "agent": "1e9"},
    ],
)
def test_hostile_query_parameters_never_fail_the_page(supervisor_a, params):
    client = signed_in(supervisor_a)
    assert get(client, "/inbox/analytics/", **params).status_code == 200
    assert get(client, "/inbox/analytics/export.csv", **params).status_code == 200


def test_the_csv_has_the_figures_of_the_page(inbox, agency_a, supervisor_a, agent_one, agent_two):
    roads = TeamFactory(agency=agency_a, name="=Roads")  # a name that looks like a formula
    first = inbox.citizen_writes("14155550101", minutes(0))
    inbox.assign(first, minutes(1), to=agent_one.user, team=roads)
    reply = inbox.staff_replies(first, agent_one.user, minutes(3))
    inbox.meta_reports(reply, "delivered", minutes(4))
    second = inbox.citizen_writes("14155550102", minutes(10))
    inbox.assign(second, minutes(11), to=agent_two.user)
    inbox.staff_replies(second, agent_two.user, minutes(40))
    inbox.resolve(second, minutes(50))
    inbox.dispatch()
    client = signed_in(supervisor_a)

    page = get(client, "/inbox/analytics/", range="7")
    export = get(client, "/inbox/analytics/export.csv", range="7")

    assert export["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    report = page.context["report"]
    period = rows[0]
    assert period["slice"] == "period"
    assert period["name"] == f"{report.start.isoformat()}/{report.end.isoformat()}"
    total = report.total
    assert (
        [int(period[k]) for k in ("opened", "resolved", "messages_in", "messages_out")]
        == [
            total.opened,
            total.resolved,
            total.messages_in,
            total.messages_out,
        ]
        == [2, 1, 2, 2]
    )
    assert (
        float(period["median_first_response_seconds"])
        == total.median_first_response
        == ((3 * 60 + 30 * 60) / 2)
    )
    assert float(period["delivery_rate"]) == total.delivery_rate == 0.5
    days = {row["name"]: row for row in rows if row["slice"] == "day"}
    assert len(days) == 7
    assert days[DAY.isoformat()]["opened"] == "2"
    teams = {row["name"]: row for row in rows if row["slice"] == "team"}
    assert teams["'=Roads"]["opened"] == "1"  # never run as a formula
    agents = {row["name"]: row for row in rows if row["slice"] == "agent"}
    assert agents["Ben"]["median_first_response_seconds"] == "1800"
    assert agents["Ben"]["resolved"] == "1"


def test_a_team_filter_narrows_every_figure(inbox, agency_a, supervisor_a, agent_one):
    roads = TeamFactory(agency=agency_a, name="Roads")
    first = inbox.citizen_writes("14155550101", minutes(0))
    inbox.assign(first, minutes(1), to=agent_one.user, team=roads)
    inbox.citizen_writes("14155550102", minutes(2))
    inbox.dispatch()

    response = get(signed_in(supervisor_a), "/inbox/analytics/", range="7", team=str(roads.pk))

    assert response.context["report"].total.opened == 1


def _facts(agency, days: int, teams: int, agents: list[int]) -> None:
    """Fact rows straight into the tables (volume for the query count, not semantics)."""
    team_keys = [TeamFactory(agency=agency).pk for _ in range(teams)]
    with agency_scope(agency):
        conversation = ConversationFactory(agency=agency)
        stats, facts = [], []
        for n in range(days):
            day = DAY - timedelta(days=n)
            for team in [NONE, *team_keys]:
                for agent in [NONE, *agents]:
                    stats.append(
                        DailyStat(
                            agency=agency,
                            day=day,
                            team_key=team,
                            agent_key=agent,
                            messages_in=3,
                            messages_out=2,
                            delivered=2,
                            read=1,
                        )
                    )
            opened = NINE - timedelta(days=n)
            facts.append(
                ConversationFact(
                    agency=agency,
                    conversation=conversation,
                    episode=n + 1,
                    current=n == 0,
                    opened_at=opened,
                    opened_day=day,
                    team_key=team_keys[0] if team_keys else 0,
                    first_response_seconds=60 + n,
                    resolved_at=opened + timedelta(hours=1),
                    resolved_day=day,
                    resolution_seconds=3600,
                )
            )
        DailyStat.objects.bulk_create(stats)
        ConversationFact.objects.bulk_create(facts)


def _page_queries(client: Client, **params: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert get(client, "/inbox/analytics/", **params).status_code == 200
    return [query["sql"] for query in queries.captured_queries]


def test_the_page_costs_the_same_queries_however_much_there_is_and_never_reads_messages(
    agency_a, supervisor_a
):
    client = signed_in(supervisor_a)
    empty = _page_queries(client, range="7")
    agents = [MembershipFactory(agency=agency_a, role=Role.AGENT).user_id for _ in range(4)]
    _facts(agency_a, days=90, teams=3, agents=agents)

    full = _page_queries(client, range="90")

    assert len(full) == len(empty)
    assert not [sql for sql in full + empty if "messaging_message" in sql]
    with agency_scope(agency_a):
        report = analytics_report(agency=agency_a, start=DAY - timedelta(days=89), end=DAY)
    assert report.total.opened == 90


def test_an_agent_may_not_see_the_analytics(agency_a):
    agent = MembershipFactory(agency=agency_a, role=Role.AGENT)
    client = signed_in(agent)

    assert get(client, "/inbox/analytics/").status_code == 403
    assert get(client, "/inbox/analytics/export.csv").status_code == 403


def test_another_agency_s_figures_are_never_shown(inbox, agency_b, supervisor_a):
    other = MembershipFactory(agency=agency_b, role=Role.SUPERVISOR)
    inbox.citizen_writes("14155550101", minutes(0))
    inbox.dispatch()
    other_team = TeamFactory(agency=agency_b)

    mine = get(signed_in(supervisor_a), "/inbox/analytics/", range="7")
    theirs = get(signed_in(other), "/inbox/analytics/", range="7", team=str(other_team.pk))
    probing = get(signed_in(supervisor_a), "/inbox/analytics/", range="7", team=str(other_team.pk))

    assert mine.context["report"].total.opened == 1
    assert theirs.context["report"].total.opened == 0
    assert probing.context["form"].errors["team"]  # not one of agency A's teams
    assert probing.context["report"].total.opened == 1  # the default: all of agency A
