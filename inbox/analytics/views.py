"""``/inbox/analytics/`` (figures, charts, CSV) and ``/inbox/supervisor/`` (queues, agents'
load, bulk reassignment), for supervisors and admins (``Perm.ASSIGN``).

The analytics read the fact rows only (``selectors.analytics_report``); the supervisor view
reads the conversations' workflow columns. Both cost a fixed number of queries.
"""

from __future__ import annotations

import csv
from typing import Literal

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bsp.events.selectors import last_sequence
from frontend.decorators import agency_perm_required
from inbox import services as inbox_services
from inbox.analytics import charts, selectors
from inbox.analytics.forms import AnalyticsFilter
from inbox.analytics.models import NONE
from inbox.analytics.selectors import Figures, Report
from inbox.models import Team
from records.audit import Actor
from tenants.http import MemberRequest
from tenants.permissions import Perm

MAX_BULK = 100


# --- Analytics -----------------------------------------------------------------------------


def _report(request: MemberRequest) -> tuple[AnalyticsFilter, Report]:
    agency = request.agency
    teams, staff = selectors.team_names(agency), selectors.staff_names(agency)
    today = selectors.local_today(agency)
    form = AnalyticsFilter(request.GET or None, today=today, teams=teams, staff=staff)
    start, end, team, agent = form.period()
    report = selectors.analytics_report(
        agency=agency, start=start, end=end, team=team, agent=agent, teams=teams, staff=staff
    )
    return form, report


@require_GET
@agency_perm_required(Perm.ASSIGN)
def analytics(request: MemberRequest) -> HttpResponse:
    form, report = _report(request)
    query = request.GET.urlencode() if form.is_bound and form.is_valid() else ""
    return render(
        request,
        "inbox/analytics/page.html",
        {
            "form": form,
            "report": report,
            "charts": _charts(report),
            "export_query": query,
        },
    )


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60


def _pct(rate: float | None) -> float | None:
    return None if rate is None else rate * 100


def _charts(report: Report) -> list[charts.Chart]:
    labels = [day.strftime("%b %-d") for day, _ in report.by_day]
    days = [figures for _, figures in report.by_day]
    period = f"{report.start:%B %-d, %Y} to {report.end:%B %-d, %Y}"
    return [
        charts.bar_chart(
            "chart-conversations",
            "Conversations opened and resolved, by day",
            f"Bars per day from {period}; the numbers are in the table “By day”.",
            labels,
            [("Opened", [f.opened for f in days]), ("Resolved", [f.resolved for f in days])],
        ),
        charts.line_chart(
            "chart-response",
            "Median first response and resolution time, by day (minutes)",
            f"Lines per day from {period}; days without a figure break the line. "
            "The numbers are in the table “By day”.",
            labels,
            [
                ("Median first response", [_minutes(f.median_first_response) for f in days]),
                ("Median resolution", [_minutes(f.median_resolution) for f in days]),
            ],
            unit="min",
        ),
        charts.bar_chart(
            "chart-messages",
            "Messages in and out, by day",
            f"Bars per day from {period}; the numbers are in the table “By day”.",
            labels,
            [("In", [f.messages_in for f in days]), ("Out", [f.messages_out for f in days])],
        ),
        charts.line_chart(
            "chart-rates",
            "Delivery and read rates, by day (percent)",
            f"Lines per day from {period}; days without messages sent break the line. "
            "The numbers are in the table “By day”.",
            labels,
            [
                ("Delivery rate", [_pct(f.delivery_rate) for f in days]),
                ("Read rate", [_pct(f.read_rate) for f in days]),
            ],
            unit="%",
        ),
    ]


CSV_HEADER = [
    "slice",
    "name",
    "opened",
    "resolved",
    "median_first_response_seconds",
    "median_resolution_seconds",
    "messages_in",
    "messages_out",
    "delivered",
    "read",
    "failed",
    "delivery_rate",
    "read_rate",
]


def csv_rows(report: Report) -> list[list[str]]:
    """The page's figures, one row per slice: the period, each day, each team, each agent."""

    def row(kind: str, name: str, f: Figures) -> list[str]:
        return [
            kind,
            _safe(name),
            str(f.opened),
            str(f.resolved),
            _number(f.median_first_response),
            _number(f.median_resolution),
            str(f.messages_in),
            str(f.messages_out),
            str(f.delivered),
            str(f.read),
            str(f.failed),
            _number(f.delivery_rate, 4),
            _number(f.read_rate, 4),
        ]

    rows = [row("period", f"{report.start.isoformat()}/{report.end.isoformat()}", report.total)]
    rows += [row("day", day.isoformat(), figures) for day, figures in report.by_day]
    rows += [row("team", r.name, r.figures) for r in report.by_team]
    rows += [row("agent", r.name, r.figures) for r in report.by_agent]
    return rows


def _number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() and digits == 1 else f"{value:.{digits}f}"


def _safe(text: str) -> str:
    """A staff-entered name never runs as a spreadsheet formula (CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@require_GET
@agency_perm_required(Perm.ASSIGN)
def export_csv(request: MemberRequest) -> HttpResponse:
    _, report = _report(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="analytics-{report.start.isoformat()}-{report.end.isoformat()}.csv"'
    )
    response["Cache-Control"] = "no-store"
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    writer.writerows(csv_rows(report))
    return response


# --- The supervisor view -------------------------------------------------------------------


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


def _list_filters(request: MemberRequest) -> tuple[int | None, int | None]:
    """The conversation list's team and assignee (``NONE`` for "none"), from the query."""
    team, assignee = request.GET.get("team", ""), request.GET.get("assignee", "unassigned")
    team_key = NONE if team == "none" else _int(team)
    assignee_key = NONE if assignee == "unassigned" else _int(assignee)
    return team_key, assignee_key


def _supervisor_context(request: MemberRequest) -> dict[str, object]:
    agency = request.agency
    teams, staff = selectors.team_names(agency), selectors.staff_names(agency)
    team_key, assignee_key = _list_filters(request)
    now = timezone.now()
    return {
        "now": now,
        "teams": teams,
        "staff": staff,
        "queues": [(queue, queue.waiting(now)) for queue in selectors.team_queues(agency, teams)],
        "agents": selectors.agent_loads(agency, staff),
        "conversations": selectors.reassignable(agency, team=team_key, assignee=assignee_key),
        "filter_team": request.GET.get("team", ""),
        "filter_assignee": request.GET.get("assignee", "unassigned"),
        "max_bulk": MAX_BULK,
    }


@require_http_methods(["GET", "POST"])
@agency_perm_required(Perm.ASSIGN)
def supervisor(request: MemberRequest) -> HttpResponse:
    if request.method == "POST":
        return _bulk_reassign(request)
    context = _supervisor_context(request)
    # The live stream starts after what the page shows (inbox/live, live.js).
    context["stream_after"] = last_sequence(request.agency.pk)
    return render(request, "inbox/supervisor/page.html", context)


PANELS = {
    "queues": "inbox/supervisor/queues.html",
    "agents": "inbox/supervisor/agents.html",
    "conversations": "inbox/supervisor/conversations.html",
}


@require_GET
@agency_perm_required(Perm.ASSIGN)
def supervisor_panel(request: MemberRequest, name: str) -> HttpResponse:
    """One panel of the page, for the live refresh (``supervisor.js``)."""
    if name not in PANELS:
        raise Http404
    response = render(request, PANELS[name], _supervisor_context(request))
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@agency_perm_required(Perm.ASSIGN)
def bulk_reassign(request: MemberRequest) -> HttpResponse:
    return _bulk_reassign(request)


def _bulk_reassign(request: MemberRequest) -> HttpResponse:
    """Each selected conversation goes through ``inbox.services.assign`` (audited there,
    one event each). An id, agent or team of another agency (or none) is a 404."""
    agency = request.agency
    back = reverse("inbox:supervisor")
    raw = request.POST.getlist("conversations")
    pks = [_int(value) for value in raw]
    if any(pk is None for pk in pks):
        raise Http404
    wanted = sorted({pk for pk in pks if pk is not None})
    if not wanted:
        messages.error(request, "Select the conversations to reassign.")
        return HttpResponseRedirect(back)
    if len(wanted) > MAX_BULK:
        messages.error(request, f"Reassign at most {MAX_BULK} conversations at a time.")
        return HttpResponseRedirect(back)
    conversations = selectors.conversations_by_pk(agency, wanted)
    if len(conversations) != len(wanted):
        raise Http404
    to_agent, to_team = request.POST.get("to_agent", ""), request.POST.get("to_team", "")
    assignee = _target_agent(request, to_agent)
    team = _target_team(request, to_team)
    if assignee is False and team is False:
        messages.error(request, "Choose an agent or a team to reassign to.")
        return HttpResponseRedirect(back)
    actor, done, refused = Actor.from_request(request), 0, []
    for conversation in conversations:
        try:
            inbox_services.assign(
                actor=actor,
                by=request.user,
                conversation=conversation,
                assignee=conversation.assignee if assignee is False else assignee,
                team=team,
                reason="bulk",
            )
            done += 1
        except inbox_services.InboxError as error:
            refused.append(str(error))
    if done:
        messages.success(request, f"Reassigned {done} conversation{'s' if done != 1 else ''}.")
    for reason in sorted(set(refused)):
        messages.error(request, reason)
    return HttpResponseRedirect(back)


def _target_agent(request: MemberRequest, value: str) -> User | Literal[False] | None:
    """False: keep each conversation's agent; None: unassign; else the member."""
    if value == "":
        return False
    if value == "unassign":
        return None
    pk = _int(value)
    user = selectors.staff_user(request.agency, pk) if pk is not None else None
    if user is None:
        raise Http404
    return user


def _target_team(request: MemberRequest, value: str) -> Team | Literal[False] | None:
    """False: keep each conversation's team; None: no team; else the team."""
    if value == "":
        return False
    if value == "none":
        return None
    pk = _int(value)
    team = selectors.team(request.agency, pk) if pk is not None else None
    if team is None:
        raise Http404
    return team
