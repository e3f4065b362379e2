"""Server-rendered staff UI: thin views. Forms validate, tenants services act, selectors read.

Every view runs inside the current agency's scope (``AgencyMiddleware``), so objects
fetched by id through the scoped managers and selectors belong to that agency: another
agency's id is a 404, never a 403 that would confirm it exists.
"""

from __future__ import annotations

from allauth.account.internal.flows.login import record_authentication
from allauth.account.utils import filter_users_by_email, perform_login
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from frontend.decorators import agency_perm_required
from frontend.forms import (
    AddPhoneNumberForm,
    ApiKeyForm,
    ChangeRoleForm,
    ConnectWabaForm,
    InviteMemberForm,
    MemberPhoneForm,
    RemoveMemberForm,
    SetPasswordForm,
    SwitchAgencyForm,
)
from records.audit import Actor, verify_chain
from records.selectors import audit_events_of
from tenants import services
from tenants.api.scopes import grantable_scopes
from tenants.http import AgencyRequest, MemberRequest, SignedInRequest, is_signed_in
from tenants.middleware import switch_agency as switch_session_agency
from tenants.models import Invitation
from tenants.permissions import Perm, Role
from tenants.selectors import (
    api_credentials_of,
    find_invitation,
    get_membership,
    live_api_credentials_created_by,
    members_of,
    other_admins,
    pending_invitations,
    phone_numbers_of,
    wabas_of,
)
from tenants.services import ApplicationError

AUDIT_PAGE_SIZE = 50


def _site_root(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


# --- Home and agency switching ---------------------------------------------------------


@login_required
def home(request: SignedInRequest) -> HttpResponse:
    agency = request.agency
    if agency is None:
        if request.user.is_superuser:  # a platform operator: their place is the console
            return redirect("frontend:console")
        return render(request, "frontend/no_agency.html")
    context = {
        "agency": agency,
        "member_count": members_of(agency).count(),
        "phone_number_count": phone_numbers_of(agency).count(),
    }
    return render(request, "frontend/home.html", context)


@login_required
@require_POST
def switch_agency(request: SignedInRequest) -> HttpResponse:
    form = SwitchAgencyForm(request.POST)
    if not form.is_valid():
        raise Http404("No such agency.")
    agency_id = form.cleaned_data["agency_id"]
    if not switch_session_agency(request, agency_id):
        raise Http404("You are not a member of that agency.")
    membership = get_membership(agency_id=agency_id, user=request.user)
    if membership is None:  # removed from it since the line above
        raise Http404("You are not a member of that agency.")
    messages.success(request, f"You are now working in {membership.agency.name}.")
    return redirect("frontend:home")


# --- Members and invitations -----------------------------------------------------------


@agency_perm_required(Perm.VIEW_AGENCY)
def members(request: MemberRequest) -> HttpResponse:
    return _render_members(request, InviteMemberForm())


def _render_members(request: MemberRequest, invite_form: InviteMemberForm) -> HttpResponse:
    agency = request.agency
    can_manage = request.membership.has_perm(Perm.MANAGE_MEMBERS)
    context = {
        "members": members_of(agency),
        "invitations": pending_invitations(agency) if can_manage else [],
        "invite_form": invite_form,
        "roles": Role.choices,
        "can_manage": can_manage,
    }
    return render(request, "frontend/members/list.html", context)


@agency_perm_required(Perm.MANAGE_MEMBERS)
@require_POST
def invite_member(request: MemberRequest) -> HttpResponse:
    form = InviteMemberForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.invite_member(
                actor=Actor.from_request(request),
                agency=request.agency,
                invited_by=request.user,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                accept_url_base=_site_root(request),
            )
        except ApplicationError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("frontend:members")
    return _render_members(request, form)


@agency_perm_required(Perm.MANAGE_MEMBERS)
@require_POST
def change_member_role(request: MemberRequest, pk: int) -> HttpResponse:
    membership = get_object_or_404(members_of(request.agency), pk=pk)
    form = ChangeRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed roles.")
        return redirect("frontend:members")
    try:
        services.change_member_role(
            actor=Actor.from_request(request),
            agency=request.agency,
            membership=membership,
            role=form.cleaned_data["role"],
        )
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        role = membership.get_role_display()
        messages.success(request, f"{membership.user.email} is now {role}.")
    return redirect("frontend:members")


@agency_perm_required(Perm.MANAGE_MEMBERS)
@require_POST
def set_member_phone(request: MemberRequest, pk: int) -> HttpResponse:
    membership = get_object_or_404(members_of(request.agency), pk=pk)
    form = MemberPhoneForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter the number in at most 32 characters.")
        return redirect("frontend:members")
    try:
        services.set_member_phone(
            actor=Actor.from_request(request),
            agency=request.agency,
            membership=membership,
            phone=form.cleaned_data["phone"],
        )
    except ApplicationError as exc:
        messages.error(request, f"{membership.user.email}: {exc}")
    else:
        number = membership.phone_e164 or "no number"
        messages.success(request, f"{membership.user.email}'s WhatsApp number: {number}.")
    return redirect("frontend:members")


@agency_perm_required(Perm.MANAGE_MEMBERS)
def remove_member(request: MemberRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation, naming the API keys the member created (they are revoked
    unless transferred to another admin); POST removes the member and ends their sessions."""
    membership = get_object_or_404(members_of(request.agency), pk=pk)
    admins = other_admins(request.agency, membership)
    form = RemoveMemberForm(request.POST if request.method == "POST" else None, admins=admins)
    if request.method != "POST" or not form.is_valid():
        context = {
            "member": membership,
            "form": form,
            "keys": live_api_credentials_created_by(request.agency, membership.user),
            "can_transfer": admins.exists(),
        }
        return render(request, "frontend/members/remove.html", context)
    email = membership.user.email
    transfer_to = form.cleaned_data["transfer_to"]
    try:
        revoked = services.remove_member(
            actor=Actor.from_request(request),
            agency=request.agency,
            membership=membership,
            transfer_api_credentials_to=transfer_to,
        )
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{email} was removed and signed out everywhere.")
        if transfer_to is not None:
            messages.success(request, f"Their API keys now belong to {transfer_to.user.email}.")
        if revoked:
            names = ", ".join(f"“{credential.name}”" for credential in revoked)
            messages.success(request, f"Their API keys were revoked: {names}.")
    return redirect("frontend:members")


@agency_perm_required(Perm.MANAGE_MEMBERS)
@require_POST
def revoke_invitation(request: MemberRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(pending_invitations(request.agency), pk=pk)
    services.revoke_invitation(
        actor=Actor.from_request(request), agency=request.agency, invitation=invitation
    )
    messages.success(request, f"The invitation of {invitation.email} was revoked.")
    return redirect("frontend:members")


# --- Accepting an invitation (the emailed link) ---------------------------------------


def accept_invitation(request: AgencyRequest, token: str) -> HttpResponse:
    invitation = find_invitation(token)
    if invitation is None:
        return render(request, "frontend/invitations/invalid.html", status=410)
    if is_signed_in(request):
        return _accept_as_signed_in_user(request, invitation)
    if filter_users_by_email(invitation.email):
        login_url = f"{reverse('account_login')}?{urlencode({'next': request.path})}"
        context = {"invitation": invitation, "login_url": login_url}
        return render(request, "frontend/invitations/sign_in.html", context)
    return _register_and_accept(request, invitation)


def _accept_as_signed_in_user(request: SignedInRequest, invitation: Invitation) -> HttpResponse:
    if request.user.email.lower() != invitation.email.lower():
        context = {"invitation": invitation}
        return render(request, "frontend/invitations/wrong_account.html", context, status=403)
    if request.method != "POST":
        return render(request, "frontend/invitations/confirm.html", {"invitation": invitation})
    services.accept_invitation(
        actor_ip=request.META.get("REMOTE_ADDR"), invitation=invitation, user=request.user
    )
    switch_session_agency(request, invitation.agency_id)
    messages.success(request, f"Welcome to {invitation.agency.name}.")
    return redirect("frontend:home")


def _register_and_accept(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    form = SetPasswordForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = services.create_user_for_invitation(
                invitation=invitation, password=form.cleaned_data["password1"]
            )
            services.accept_invitation(
                actor_ip=request.META.get("REMOTE_ADDR"), invitation=invitation, user=user
            )
        return _sign_in_new_member(request, user, invitation)
    context = {"invitation": invitation, "form": form}
    return render(request, "frontend/invitations/set_password.html", context)


def _sign_in_new_member(request: HttpRequest, user: User, invitation: Invitation) -> HttpResponse:
    # They typed the password in this very request: record it as a fresh (re)authentication,
    # so the MFA enrollment that follows does not ask for it again at once.
    record_authentication(request, user, method="password", email=user.email, reauthenticated=True)
    response = perform_login(request, user, redirect_url=reverse("frontend:home"))
    switch_session_agency(request, invitation.agency_id)
    messages.success(request, f"Welcome to {invitation.agency.name}.")
    return response


# --- WhatsApp connection ---------------------------------------------------------------


@agency_perm_required(Perm.VIEW_AGENCY)
def whatsapp(request: MemberRequest) -> HttpResponse:
    return _render_whatsapp(request)


def _render_whatsapp(
    request: MemberRequest,
    waba_form: ConnectWabaForm | None = None,
    number_form: AddPhoneNumberForm | None = None,
) -> HttpResponse:
    agency = request.agency
    wabas = wabas_of(agency)
    context = {
        "wabas": wabas,
        "phone_numbers": phone_numbers_of(agency),
        "can_manage": request.membership.has_perm(Perm.MANAGE_WHATSAPP),
        "waba_form": waba_form or ConnectWabaForm(),
        "number_form": number_form or AddPhoneNumberForm(wabas=wabas),
    }
    return render(request, "frontend/whatsapp/index.html", context)


@agency_perm_required(Perm.MANAGE_WHATSAPP)
@require_POST
def connect_waba(request: MemberRequest) -> HttpResponse:
    form = ConnectWabaForm(request.POST)
    if form.is_valid():
        try:
            waba = services.connect_waba(
                actor=Actor.from_request(request), agency=request.agency, **form.cleaned_data
            )
        except ApplicationError as exc:
            form.add_error("waba_id", str(exc))
        else:
            messages.success(request, f"Connected {waba.name}. The access token is set.")
            return redirect("frontend:whatsapp")
    return _render_whatsapp(request, waba_form=form)


@agency_perm_required(Perm.MANAGE_WHATSAPP)
@require_POST
def add_phone_number(request: MemberRequest) -> HttpResponse:
    form = AddPhoneNumberForm(request.POST, wabas=wabas_of(request.agency))
    if form.is_valid():
        try:
            number = services.connect_phone_number(
                actor=Actor.from_request(request), agency=request.agency, **form.cleaned_data
            )
        except ApplicationError as exc:
            form.add_error("phone_number_id", str(exc))
        else:
            messages.success(request, f"Added {number.display_phone_number}.")
            return redirect("frontend:phone_number", pk=number.pk)
    return _render_whatsapp(request, number_form=form)


@agency_perm_required(Perm.VIEW_AGENCY)
def phone_number(request: MemberRequest, pk: int) -> HttpResponse:
    number = get_object_or_404(phone_numbers_of(request.agency), pk=pk)
    return render(request, "frontend/whatsapp/phone_number.html", {"number": number})


# --- Audit trail -----------------------------------------------------------------------


@agency_perm_required(Perm.VIEW_AUDIT)
def audit(request: MemberRequest) -> HttpResponse:
    agency = request.agency
    page = Paginator(audit_events_of(agency), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    # Verification reads the whole chain, so it runs when asked for (and hourly in beat).
    chain = verify_chain(agency.pk) if request.GET.get("verify") else None
    context = {"agency": agency, "page": page, "chain": chain}
    return render(request, "frontend/audit/list.html", context)


@agency_perm_required(Perm.VIEW_AUDIT)
def audit_event(request: MemberRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(audit_events_of(request.agency), pk=pk)
    return render(request, "frontend/audit/detail.html", {"event": event})


# --- API keys --------------------------------------------------------------------------


@agency_perm_required(Perm.MANAGE_API_KEYS)
def api_keys(request: MemberRequest) -> HttpResponse:
    """Lists keys; POST creates one and shows its raw key on this response only."""
    grantable = grantable_scopes(request.membership.role)
    form = ApiKeyForm(request.POST or None, grantable=grantable)
    created, raw_key = None, ""
    if request.method == "POST" and form.is_valid():
        created, raw_key = services.create_api_credential(
            actor=Actor.from_request(request),
            agency=request.agency,
            created_by=request.user,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            kind=form.cleaned_data["kind"] or "live",
        )
        form = ApiKeyForm(grantable=grantable)
    context = {
        "credentials": api_credentials_of(request.agency),
        "form": form,
        "created": created,
        "raw_key": raw_key,
    }
    response = render(request, "frontend/api_keys/list.html", context)
    if raw_key:
        response["Cache-Control"] = "no-store"  # the raw key must not linger in caches
    return response


@agency_perm_required(Perm.MANAGE_API_KEYS)
@require_POST
def revoke_api_key(request: MemberRequest, pk: int) -> HttpResponse:
    credential = get_object_or_404(
        api_credentials_of(request.agency).filter(revoked_at=None), pk=pk
    )
    services.revoke_api_credential(
        actor=Actor.from_request(request), agency=request.agency, credential=credential
    )
    messages.success(request, f"The key “{credential.name}” was revoked.")
    return redirect("frontend:api_keys")
