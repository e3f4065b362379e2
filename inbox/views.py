"""The team inbox: the conversation list, one conversation's page and its side-panel
actions. Thin views: forms validate, inbox.services act, inbox.selectors read.

Every action works as a plain form POST (redirect back, JavaScript off) and, asked by
htmx, answers with the fragment to swap in. Objects are fetched through the agency's
scoped managers: another agency's id is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from bsp.events.selectors import last_sequence
from frontend.decorators import agency_perm_required
from inbox import selectors, services
from inbox.composer.context import composer_context
from inbox.forms import AssignForm, ConsentForm, LabelsForm, NoteForm, StatusForm
from inbox.models import Team
from inbox.rendering import thread_items
from inbox.services import InboxError
from messaging.consent import record_consent
from messaging.models import Consent, Conversation, Message
from records.audit import Actor
from tenants.http import MemberRequest
from tenants.permissions import Perm
from tenants.services import ApplicationError


def _is_htmx(request: MemberRequest) -> bool:
    return bool(request.headers.get("HX-Request"))


def _conversation(request: MemberRequest, pk: int) -> Conversation:
    return get_object_or_404(
        Conversation.objects.select_related("contact", "phone_number", "assignee", "team"),
        pk=pk,
        agency=request.agency,
    )


# --- The list ----------------------------------------------------------------------------


@require_GET
@agency_perm_required(Perm.VIEW_INBOX)
def conversations(request: MemberRequest) -> HttpResponse:
    filters = selectors.parse_filters(request.GET)
    found_by = selectors.search(request.agency, filters.q)
    page = selectors.conversation_page(
        request.agency,
        request.user,
        filters,
        cursor=request.GET.get("after", "")[:200],
        found_by=found_by,
    )
    context: dict[str, Any] = {
        "stream_after": last_sequence(request.agency.pk),
        "filters": filters,
        "status_choices": [*Conversation.Status.choices, ("any", "Any status")],
        "page": page,
        "counts": selectors.counts(request.agency, request.user, filters, found_by),
    }
    if _is_htmx(request) and request.GET.get("fragment") == "rows":
        return render(request, "inbox/includes/conversation_rows.html", context)
    if _is_htmx(request) and request.GET.get("fragment") == "list":
        return render(request, "inbox/includes/conversation_list.html", context)
    context.update(
        teams=selectors.teams_of_agency(request.agency),
        labels=selectors.labels_of_agency(request.agency),
        numbers=selectors.numbers_of_agency(request.agency),
        my_status=selectors.my_status(request.agency, request.user),
        notifications=selectors.unread_notifications(request.agency, request.user),
    )
    return render(request, "inbox/conversations.html", context)


# --- One conversation --------------------------------------------------------------------


def _thread_context(request: MemberRequest, conversation: Conversation) -> dict[str, Any]:
    found, earlier = selectors.thread_messages(conversation)
    agency = request.agency
    agency_labels = selectors.labels_of_agency(agency)
    chosen = selectors.label_ids_of(conversation)
    context: dict[str, Any] = {
        "stream_after": last_sequence(agency.pk),
        "conversation": conversation,
        "contact": conversation.contact,
        "views": thread_items(found, tz=request.agency.timezone),
        "earlier": earlier,
        "oldest": found[0].pk if found else None,
        "can_reply": request.membership.has_perm(Perm.REPLY),
        "can_assign": request.membership.has_perm(Perm.ASSIGN),
        "assign_form": AssignForm(
            agency=agency,
            initial={"assignee": conversation.assignee_id, "team": conversation.team_id},
        ),
        "status_form": StatusForm(
            initial={"status": conversation.status, "snooze_until": conversation.snoozed_until}
        ),
        "label_choices": agency_labels,
        "note_form": NoteForm(),
        "consent_form": ConsentForm(),
        "notes": selectors.notes_of(conversation),
        "consents": selectors.consent_lines(conversation.contact),
        "other_conversations": selectors.other_conversations(conversation),
        "labels": [label for label in agency_labels if label.pk in chosen],
    }
    if context["can_reply"]:
        context.update(composer_context(request, conversation))
    return context


@require_GET
@agency_perm_required(Perm.VIEW_INBOX)
def conversation(request: MemberRequest, pk: int) -> HttpResponse:
    row = _conversation(request, pk)
    if request.membership.has_perm(Perm.REPLY):
        services.mark_read(by=request.user, conversation=row)  # blue ticks for the citizen
    services.mark_notifications_read(user=request.user, agency=request.agency, conversation=row)
    context = _thread_context(request, row)
    if _is_htmx(request) and request.GET.get("fragment") == "panel":
        return render(request, "inbox/includes/side_panel.html", context)
    return render(request, "inbox/conversation.html", context)


@require_GET
@agency_perm_required(Perm.VIEW_INBOX)
def earlier_messages(request: MemberRequest, pk: int) -> HttpResponse:
    row = _conversation(request, pk)
    before = selectors.parse_id(request.GET.get("before"))
    found, earlier = selectors.thread_messages(row, before=before)
    context = {
        "conversation": row,
        "views": thread_items(found, tz=request.agency.timezone),
        "earlier": earlier,
        "oldest": found[0].pk if found else None,
    }
    return render(request, "inbox/includes/earlier_messages.html", context)


@require_GET
@agency_perm_required(Perm.VIEW_INBOX)
def message_fragment(request: MemberRequest, pk: int, message_pk: int) -> HttpResponse:
    """One message as the thread shows it (the live updates swap it in)."""
    row = _conversation(request, pk)
    message = Message.objects.filter(conversation=row, pk=message_pk).first()
    if message is None:
        raise Http404
    views = thread_items([message], tz=request.agency.timezone)
    if not views:  # a reaction or edit notice: its target message is what changed
        raise Http404
    return render(request, "inbox/messages/message.html", {"view": views[0]})


# --- Side-panel actions ------------------------------------------------------------------


def _done(request: MemberRequest, row: Conversation, text: str) -> HttpResponse:
    if _is_htmx(request):
        response = render(request, "inbox/includes/side_panel.html", _thread_context(request, row))
        response["HX-Trigger"] = "inbox:changed"
        return response
    messages.success(request, text)
    return redirect("inbox:conversation", pk=row.pk)


def _refused(request: MemberRequest, row: Conversation, error: str) -> HttpResponse:
    messages.error(request, error)
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("inbox:conversation", args=[row.pk])
        return response
    return redirect("inbox:conversation", pk=row.pk)


@require_POST
@agency_perm_required(Perm.REPLY)
def assign(request: MemberRequest, pk: int) -> HttpResponse:
    row = _conversation(request, pk)
    assignee: User | None = request.user
    team: Team | bool | None = False
    if request.POST.get("to") != "me":  # inbox.services.assign checks who may
        form = AssignForm(request.POST, agency=request.agency)
        if not form.is_valid():
            return _refused(request, row, "Choose someone from the list.")
        assignee, team = form.chosen_assignee(), form.chosen_team()
    try:
        services.assign(
            actor=Actor.from_request(request),
            by=request.user,
            conversation=row,
            assignee=assignee,
            team=team,
        )
    except ApplicationError as exc:
        return _refused(request, row, str(exc))
    row.refresh_from_db()
    who = (assignee.get_full_name() or assignee.email) if assignee else "nobody"
    return _done(request, row, f"Conversation assigned to {who}.")


@require_POST
@agency_perm_required(Perm.REPLY)
def set_status(request: MemberRequest, pk: int) -> HttpResponse:
    row = _conversation(request, pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(str(e) for field in form.errors.values() for e in field)
        return _refused(request, row, errors or "Choose a status.")
    try:
        services.set_status(
            actor=Actor.from_request(request),
            by=request.user,
            conversation=row,
            status=form.cleaned_data["status"],
            snooze_until=form.cleaned_data.get("snooze_until"),
        )
    except (InboxError, ApplicationError) as exc:
        return _refused(request, row, str(exc))
    row.refresh_from_db()
    return _done(request, row, f"Conversation is now {row.get_status_display().lower()}.")


@require_POST
@agency_perm_required(Perm.REPLY)
def set_labels(request: MemberRequest, pk: int) -> HttpResponse:
    row = _conversation(request, pk)
    form = LabelsForm(request.POST, agency=request.agency)
    if not form.is_valid():
        return _refused(request, row, "Choose labels from the list.")
    try:
        services.set_labels(
            actor=Actor.from_request(request), conversation=row, labels=form.cleaned_data["labels"]
        )
    except ApplicationError as exc:
        return _refused(request, row, str(exc))
    return _done(request, row, "Labels saved.")


@require_POST
@agency_perm_required(Perm.REPLY)
def add_note(request: MemberRequest, pk: int) -> HttpResponse:
    row = _conversation(request, pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _refused(request, row, "A note needs some text (at most 4,000 characters).")
    try:
        services.add_note(
            actor=Actor.from_request(request),
            author=request.user,
            conversation=row,
            body=form.cleaned_data["body"],
        )
    except ApplicationError as exc:
        return _refused(request, row, str(exc))
    return _done(request, row, "Note added.")


@require_POST
@agency_perm_required(Perm.REPLY)
def record_contact_consent(request: MemberRequest, pk: int) -> HttpResponse:
    row = _conversation(request, pk)
    form = ConsentForm(request.POST)
    if not form.is_valid():
        return _refused(request, row, "Say how the citizen told you (at most 500 characters).")
    try:
        record_consent(
            actor=Actor.from_request(request),
            contact=row.contact,
            status=form.cleaned_data["status"],
            source=Consent.Source.STAFF,
            topic=form.cleaned_data["topic"],
            recorded_by=request.user,
            evidence={"note": form.cleaned_data["evidence"], "conversation": row.pk},
        )
    except ApplicationError as exc:
        return _refused(request, row, str(exc))
    opted = "opt-in" if form.cleaned_data["status"] == Consent.Status.OPTED_IN else "opt-out"
    return _done(request, row, f"The citizen's {opted} is recorded.")


# --- Notifications -----------------------------------------------------------------------


@agency_perm_required(Perm.VIEW_INBOX)
def notifications(request: MemberRequest) -> HttpResponse:
    if request.method == "POST":
        services.mark_notifications_read(user=request.user, agency=request.agency)
        messages.success(request, "All notifications marked as read.")
        return redirect("inbox:notifications")
    context = {"notifications": selectors.unread_notifications(request.agency, request.user, 100)}
    return render(request, "inbox/notifications.html", context)
