"""The inbox's admin pages: teams and agents' capacity, canned responses, labels (manage
teams: supervisors and agency admins), business hours and the agency's settings (manage
agency: agency admins); and every agent's own availability.

Thin views: forms validate, ``services`` act (audited, refused for a suspended agency),
``selectors`` read. Objects are fetched through the agency-scoped managers: another
agency's id is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from frontend.decorators import agency_perm_required
from inbox import services as inbox_services
from inbox.admin_pages import selectors, services
from inbox.admin_pages.forms import (
    AgencySettingsForm,
    AvailabilityForm,
    BusinessHoursForm,
    CannedResponseForm,
    CapacityForm,
    LabelForm,
    TeamForm,
)
from inbox.models import AgentStatus, BusinessHours, CannedResponse, Label, Team
from records.audit import Actor
from tenants.http import MemberRequest
from tenants.models import PhoneNumber
from tenants.permissions import Perm
from tenants.services import ApplicationError

T = "inbox/admin/"


def _page(request: MemberRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, T + template, context)


# --- Overview ----------------------------------------------------------------------------


@agency_perm_required(Perm.MANAGE_TEAMS)
def overview(request: MemberRequest) -> HttpResponse:
    agency = request.agency
    context = {
        "team_count": len(selectors.team_list(agency)),
        "agent_count": len(selectors.agents(agency)),
        "canned_count": selectors.canned_responses(agency).count(),
        "label_count": selectors.labels(agency).count(),
    }
    return _page(request, "overview.html", context)


# --- Teams -------------------------------------------------------------------------------


@agency_perm_required(Perm.MANAGE_TEAMS)
def teams(request: MemberRequest) -> HttpResponse:
    return _page(request, "teams.html", {"rows": selectors.team_list(request.agency)})


def _team_form(request: MemberRequest, **kwargs: Any) -> TeamForm:
    return TeamForm(
        request.POST if request.method == "POST" else None,
        members=selectors.replying_users(request.agency),
        phone_numbers=selectors.phone_numbers(request.agency),
        **kwargs,
    )


@agency_perm_required(Perm.MANAGE_TEAMS)
def team_create(request: MemberRequest) -> HttpResponse:
    form = _team_form(request)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.create_team(
                actor=Actor.from_request(request), agency=request.agency, **form.cleaned_data
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"The team “{team.name}” was created.")
            return redirect("inbox:admin_teams")
    return _page(request, "team_form.html", {"form": form, "team": None})


@agency_perm_required(Perm.MANAGE_TEAMS)
def team_edit(request: MemberRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(Team.objects.filter(agency=request.agency), pk=pk)
    initial = {
        "name": team.name,
        "description": team.description,
        "auto_assign": team.auto_assign,
        "members": list(selectors.team_members(team)),
        "phone_numbers": list(selectors.team_numbers(team)),
    }
    form = _team_form(request, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_team(actor=Actor.from_request(request), team=team, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"The team “{team.name}” was saved.")
            return redirect("inbox:admin_teams")
    return _page(request, "team_form.html", {"form": form, "team": team})


@agency_perm_required(Perm.MANAGE_TEAMS)
def team_delete(request: MemberRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(Team.objects.filter(agency=request.agency), pk=pk)
    if request.method == "POST":
        name = team.name
        try:
            services.delete_team(actor=Actor.from_request(request), team=team)
        except ApplicationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"The team “{name}” was deleted.")
        return redirect("inbox:admin_teams")
    context = {
        "what": f"the team “{team.name}”",
        "consequence": "Its conversations stay where they are, without a team; "
        "its members keep their conversations.",
        "cancel": "inbox:admin_teams",
    }
    return _page(request, "confirm_delete.html", context)


# --- Agents: capacity --------------------------------------------------------------------


@agency_perm_required(Perm.MANAGE_TEAMS)
def agents(request: MemberRequest) -> HttpResponse:
    return _page(request, "agents.html", {"rows": selectors.agents(request.agency)})


@agency_perm_required(Perm.MANAGE_TEAMS)
@require_POST
def agent_capacity(request: MemberRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(selectors.replying_users(request.agency), pk=user_id)
    form = CapacityForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Capacity must be a whole number from 1 to 100.")
        return redirect("inbox:admin_agents")
    try:
        services.set_agent_capacity(
            actor=Actor.from_request(request),
            agency=request.agency,
            user=user,
            capacity=form.cleaned_data["capacity"],
        )
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"{user.email} may now hold {form.cleaned_data['capacity']} conversations."
        )
    return redirect("inbox:admin_agents")


# --- Canned responses --------------------------------------------------------------------


@agency_perm_required(Perm.MANAGE_TEAMS)
def canned_responses(request: MemberRequest) -> HttpResponse:
    context = {"responses": selectors.canned_responses(request.agency)}
    return _page(request, "canned_responses.html", context)


@agency_perm_required(Perm.MANAGE_TEAMS)
def canned_create(request: MemberRequest) -> HttpResponse:
    form = CannedResponseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            canned = services.create_canned_response(
                actor=Actor.from_request(request),
                agency=request.agency,
                by=request.user,
                **form.cleaned_data,
            )
        except ApplicationError as exc:
            form.add_error("shortcut", str(exc))
        else:
            messages.success(request, f"The canned response /{canned.shortcut} was created.")
            return redirect("inbox:admin_canned")
    return _page(request, "canned_form.html", {"form": form, "canned": None})


@agency_perm_required(Perm.MANAGE_TEAMS)
def canned_edit(request: MemberRequest, pk: int) -> HttpResponse:
    canned = get_object_or_404(CannedResponse.objects.filter(agency=request.agency), pk=pk)
    initial = {"shortcut": canned.shortcut, "title": canned.title, "body": canned.body}
    form = CannedResponseForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_canned_response(
                actor=Actor.from_request(request), canned=canned, **form.cleaned_data
            )
        except ApplicationError as exc:
            form.add_error("shortcut", str(exc))
        else:
            messages.success(request, f"The canned response /{canned.shortcut} was saved.")
            return redirect("inbox:admin_canned")
    return _page(request, "canned_form.html", {"form": form, "canned": canned})


@agency_perm_required(Perm.MANAGE_TEAMS)
def canned_delete(request: MemberRequest, pk: int) -> HttpResponse:
    canned = get_object_or_404(CannedResponse.objects.filter(agency=request.agency), pk=pk)
    if request.method == "POST":
        shortcut = canned.shortcut
        try:
            services.delete_canned_response(actor=Actor.from_request(request), canned=canned)
        except ApplicationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"The canned response /{shortcut} was deleted.")
        return redirect("inbox:admin_canned")
    context = {
        "what": f"the canned response /{canned.shortcut} (“{canned.title}”)",
        "consequence": "Agents can no longer insert it; replies already sent are kept.",
        "cancel": "inbox:admin_canned",
    }
    return _page(request, "confirm_delete.html", context)


# --- Labels ------------------------------------------------------------------------------


@agency_perm_required(Perm.MANAGE_TEAMS)
def labels(request: MemberRequest) -> HttpResponse:
    form = LabelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            label = services.create_label(
                actor=Actor.from_request(request), agency=request.agency, **form.cleaned_data
            )
        except ApplicationError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"The label “{label.name}” was created.")
            return redirect("inbox:admin_labels")
    context = {"labels": selectors.labels(request.agency), "form": form}
    return _page(request, "labels.html", context)


@agency_perm_required(Perm.MANAGE_TEAMS)
def label_edit(request: MemberRequest, pk: int) -> HttpResponse:
    label = get_object_or_404(Label.objects.filter(agency=request.agency), pk=pk)
    initial = {"name": label.name, "description": label.description}
    form = LabelForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.rename_label(
                actor=Actor.from_request(request), label=label, **form.cleaned_data
            )
        except ApplicationError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"The label is now called “{label.name}”.")
            return redirect("inbox:admin_labels")
    return _page(request, "label_form.html", {"form": form, "label": label})


@agency_perm_required(Perm.MANAGE_TEAMS)
def label_delete(request: MemberRequest, pk: int) -> HttpResponse:
    label = get_object_or_404(Label.objects.filter(agency=request.agency), pk=pk)
    if request.method == "POST":
        name = label.name
        try:
            services.delete_label(actor=Actor.from_request(request), label=label)
        except ApplicationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"The label “{name}” was deleted.")
        return redirect("inbox:admin_labels")
    context = {
        "what": f"the label “{label.name}”",
        "consequence": "It comes off every conversation that has it.",
        "cancel": "inbox:admin_labels",
    }
    return _page(request, "confirm_delete.html", context)


# --- Business hours and agency settings (manage agency) ----------------------------------


@agency_perm_required(Perm.MANAGE_AGENCY)
def business_hours(request: MemberRequest) -> HttpResponse:
    context = {"rows": selectors.numbers_with_hours(request.agency)}
    return _page(request, "business_hours.html", context)


@agency_perm_required(Perm.MANAGE_AGENCY)
def business_hours_edit(request: MemberRequest, number_id: int) -> HttpResponse:
    number = get_object_or_404(PhoneNumber.objects.filter(agency=request.agency), pk=number_id)
    hours = BusinessHours.objects.filter(phone_number=number).first()
    form = BusinessHoursForm(
        request.POST if request.method == "POST" else None,
        initial=BusinessHoursForm.initial_for(hours),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.save_business_hours(
                actor=Actor.from_request(request),
                number=number,
                enabled=data["enabled"],
                days=data["days"],
                away_message=data["away_message"],
                away_cooldown_hours=data["away_cooldown_hours"],
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Business hours of {number.display_phone_number} saved.")
            return redirect("inbox:admin_hours")
    context = {"form": form, "number": number}
    return _page(request, "business_hours_form.html", context)


@agency_perm_required(Perm.MANAGE_AGENCY)
def agency_settings(request: MemberRequest) -> HttpResponse:
    agency = request.agency
    initial = {field: getattr(agency, field) for field in services.AGENCY_SETTINGS}
    form = AgencySettingsForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_agency_settings(
                actor=Actor.from_request(request), agency=agency, **form.cleaned_data
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "The agency's settings were saved.")
            return redirect("inbox:admin_agency")
    return _page(request, "agency_settings.html", {"form": form})


# --- My availability ---------------------------------------------------------------------


@agency_perm_required(Perm.REPLY)
@require_POST
def availability(request: MemberRequest) -> HttpResponse:
    """An agent sets themselves available (the round robin hands them conversations) or
    away. htmx swaps the form in place; without JavaScript the page they were on reloads."""
    form = AvailabilityForm(request.POST)
    htmx = request.headers.get("HX-Request") == "true"
    target = _safe_next(request, form.data.get("next", ""))
    problem = ""
    if not form.is_valid():
        problem = "Choose available or away."
    else:
        try:
            status = inbox_services.set_availability(
                actor=Actor.from_request(request),
                agency=request.agency,
                user=request.user,
                availability=form.cleaned_data["availability"],
            )
        except ApplicationError as exc:
            problem = str(exc)
        else:
            if not htmx:
                messages.success(request, _AVAILABILITY_DONE[status.availability])
    if htmx:
        mine = AgentStatus.objects.filter(agency=request.agency, user=request.user).first()
        context = {"my_status": mine, "next": target, "problem": problem}
        return render(request, T + "availability_form.html", context)
    if problem:
        messages.error(request, problem)
    return redirect(target or "inbox:conversations")


_AVAILABILITY_DONE: dict[str, str] = {
    AgentStatus.Availability.AVAILABLE: "You are available: new conversations come to you.",
    AgentStatus.Availability.AWAY: "You are away: no new conversations come to you.",
}


def _safe_next(request: MemberRequest, target: str) -> str:
    """A page of ours to go back to, or ""."""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""
