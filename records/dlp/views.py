"""The DLP policy page: the agency's policy and rules (``/records/dlp/``, agency admins).
Thin views: forms check, ``records.dlp.services`` writes. (Revealing masked data is the
inbox's: ``inbox.composer.views.reveal``.)"""

from __future__ import annotations

from typing import Any

from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from frontend.decorators import agency_perm_required
from records.audit import Actor
from records.dlp import services
from records.dlp.forms import PolicyForm, RuleForm
from records.dlp.models import SensitiveDataRule
from records.dlp.policy import policy_for
from tenants.http import MemberRequest
from tenants.permissions import Perm

POLICY_PAGE = "records/dlp/policy.html"


def _page(
    request: MemberRequest,
    form: PolicyForm | None = None,
    rule_form: RuleForm | None = None,
    status: int = 200,
) -> HttpResponse:
    policy = policy_for(request.agency.pk)
    context: dict[str, Any] = {
        "policy": policy,
        "form": form or PolicyForm.of(policy),
        "rule_form": rule_form or RuleForm(auto_id="rule-%s"),
        "rules": SensitiveDataRule.objects.filter(agency=request.agency).order_by("name"),
    }
    return render(request, POLICY_PAGE, context, status=status)


def _apply_errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        form.add_error(None, error.messages)


@require_http_methods(["GET", "POST"])
@agency_perm_required(Perm.MANAGE_AGENCY)
def policy(request: MemberRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request)
    form = PolicyForm(request.POST)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    try:
        services.update_policy(
            agency=request.agency,
            actor=Actor.from_request(request),
            user_id=request.user.pk,
            **form.cleaned_data,
        )
    except ValidationError as exc:
        _apply_errors(form, exc)
        return _page(request, form=form, status=400)
    flash.success(request, "The sensitive-data policy is saved.")
    return redirect("records_dlp:policy")


@require_POST
@agency_perm_required(Perm.MANAGE_AGENCY)
def add_rule(request: MemberRequest) -> HttpResponse:
    form = RuleForm(request.POST, auto_id="rule-%s")
    if not form.is_valid():
        return _page(request, rule_form=form, status=400)
    data = form.cleaned_data
    if SensitiveDataRule.objects.filter(agency=request.agency, name=data["name"].strip()).exists():
        form.add_error("name", "The agency already has a rule with this name.")
        return _page(request, rule_form=form, status=400)
    try:
        services.create_rule(
            agency=request.agency,
            actor=Actor.from_request(request),
            name=data["name"],
            pattern=data["pattern"].strip(),
            keywords=data["keywords"].splitlines(),
            action=data["action"],
            direction=data["direction"],
        )
    except ValidationError as exc:
        _apply_errors(form, exc)
        return _page(request, rule_form=form, status=400)
    flash.success(request, f"The rule “{data['name'].strip()}” is added.")
    return redirect("records_dlp:policy")


@require_POST
@agency_perm_required(Perm.MANAGE_AGENCY)
def toggle_rule(request: MemberRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(SensitiveDataRule, pk=pk, agency=request.agency)
    enabled = request.POST.get("enabled") == "1"
    services.set_rule_enabled(rule=rule, actor=Actor.from_request(request), enabled=enabled)
    flash.success(request, f"The rule “{rule.name}” is {'on' if enabled else 'off'}.")
    return redirect("records_dlp:policy")
