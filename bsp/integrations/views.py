"""The webhook subscription pages (agency admins: ``Perm.MANAGE_AGENCY``): the list and the
creation form, a subscription's page with its delivery log, and its actions (edit, rotate
the secret, send a test event, disable/enable, delete). Thin: forms validate, services act,
selectors read; another agency's id is a 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from bsp.integrations import events, selectors, services
from bsp.integrations.forms import DisableForm, SubscriptionForm
from bsp.integrations.models import WebhookSubscription
from bsp.integrations.verify import TOLERANCE_SECONDS
from frontend.decorators import agency_perm_required
from records.audit import Actor
from tenants.http import MemberRequest
from tenants.permissions import Perm
from tenants.services import ApplicationError

T = "integrations/"


def _get(request: MemberRequest, pk: int) -> WebhookSubscription:
    sub = selectors.subscription(request.agency, pk)
    if sub is None:
        raise Http404
    return sub


def _detail(request: MemberRequest, sub: WebhookSubscription, **extra: Any) -> HttpResponse:
    status = str(request.GET.get("status", ""))[:20]
    context = {
        "sub": sub,
        "log": selectors.delivery_log(sub, status),
        "counts": selectors.delivery_counts(sub),
        "status": status if status in selectors.STATUSES else "",
        "chosen": [(name, dict(events.CHOICES).get(name, name)) for name in sub.events],
        "disable_form": DisableForm(),
        "tolerance_minutes": TOLERANCE_SECONDS // 60,
        **extra,
    }
    return render(request, T + "detail.html", context)


@agency_perm_required(Perm.MANAGE_AGENCY)
def subscription_list(request: MemberRequest) -> HttpResponse:
    form = SubscriptionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            sub, secret = services.create_subscription(
                actor=Actor.from_request(request),
                agency=request.agency,
                created_by=request.user,
                **form.cleaned_data,
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            return _detail(request, sub, secret=secret, created=True)
    rows = selectors.subscriptions(request.agency)
    return render(request, T + "list.html", {"rows": rows, "form": form})


@agency_perm_required(Perm.MANAGE_AGENCY)
def subscription_detail(request: MemberRequest, pk: int) -> HttpResponse:
    return _detail(request, _get(request, pk))


@agency_perm_required(Perm.MANAGE_AGENCY)
def subscription_edit(request: MemberRequest, pk: int) -> HttpResponse:
    sub = _get(request, pk)
    initial = {"url": sub.url, "description": sub.description, "events": sub.events}
    form = SubscriptionForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_subscription(
                actor=Actor.from_request(request), subscription=sub, **form.cleaned_data
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "The subscription was saved.")
            return redirect("integrations:detail", pk=sub.pk)
    return render(request, T + "edit.html", {"sub": sub, "form": form})


@require_POST
@agency_perm_required(Perm.MANAGE_AGENCY)
def subscription_action(request: MemberRequest, pk: int, action: str) -> HttpResponse:
    sub = _get(request, pk)
    actor = Actor.from_request(request)
    try:
        if action == "rotate":
            secret = services.rotate_secret(actor=actor, subscription=sub)
            return _detail(
                request, selectors.subscription(request.agency, pk) or sub, secret=secret
            )
        if action == "test":
            services.send_test(actor=actor, subscription=sub)
            messages.success(request, "A test event was queued; it appears in the log below.")
        elif action == "disable":
            form = DisableForm(request.POST)
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            services.disable(actor=actor, subscription=sub, reason=reason or "Disabled by an admin")
            messages.success(request, "The subscription was disabled.")
        elif action == "enable":
            services.enable(actor=actor, subscription=sub)
            messages.success(request, "The subscription was enabled.")
        elif action == "delete":
            services.delete(actor=actor, subscription=sub)
            messages.success(request, "The subscription was deleted.")
            return redirect("integrations:list")
        else:
            raise Http404
    except ApplicationError as exc:
        messages.error(request, str(exc))
    return redirect("integrations:detail", pk=sub.pk)
