"""Writes about agencies, staff and the WhatsApp connection. Each one is audited."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User as AuthUser
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from bsp import events
from bsp.events import types as event_types
from records.audit import Actor, record_event
from tenants.models import (
    Agency,
    ApiAccessToken,
    ApiCredential,
    BusinessPortfolio,
    IdempotencyKey,
    Invitation,
    Membership,
    PhoneNumber,
    WhatsAppBusinessAccount,
)
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tenants.selectors import live_api_credentials_created_by, sha256_hex

INVITATION_TTL = timedelta(days=7)
User = get_user_model()


class ApplicationError(Exception):
    """A refused action, with a message a non-technical user can act on."""


class AgencySuspended(ApplicationError):
    """A state change refused because the agency is suspended: it is read-only until reactivated.

    Pages show it like any refusal (plus the banner every page carries), the API answers 403
    ``agency_suspended`` (``tenants.api.exceptions``), sending refuses it as
    ``sender_unavailable`` (``messaging.policy.check_sender``).
    """

    code = "agency_suspended"


def suspension_reason(agency: Agency) -> str:
    return (
        f"{agency.name} is suspended by the platform operators. Everything stays readable, "
        "but nothing can be sent or changed (messages, invitations, roles, API keys, "
        "WhatsApp numbers, templates) until the agency is reactivated."
    )


def ensure_agency_active(agency: Agency) -> None:
    """The one guard every state-changing service calls first.

    Not called by what only takes access away (removing a member, revoking an invitation or
    an API key, so a suspended agency can still lock out a leaver) nor by facts that Meta
    reports (webhooks): those keep the records true.
    """
    if not agency.is_active:
        raise AgencySuspended(suspension_reason(agency))


def create_agency(*, actor: Actor, name: str, slug: str, timezone_name: str = "UTC") -> Agency:
    with transaction.atomic():
        agency = Agency(name=name, slug=slug, timezone=timezone_name)
        agency.full_clean()
        agency.save()
        record_event(
            agency_id=agency.pk,
            actor=actor,
            action="agency.created",
            target=agency,
            changes={"name": name, "slug": slug, "timezone": timezone_name},
        )
    return agency


def set_agency_status(*, actor: Actor, agency: Agency, status: str) -> Agency:
    with transaction.atomic():
        previous, agency.status = agency.status, status
        agency.full_clean()
        agency.save(update_fields=["status"])
        record_event(
            agency_id=agency.pk,
            actor=actor,
            action="agency.status_changed",
            target=agency,
            changes={"status": [previous, status]},
        )
    return agency


def add_member(*, actor: Actor, agency: Agency, user: AuthUser, role: str) -> Membership:
    ensure_agency_active(agency)
    with agency_scope(agency), transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            agency=agency, user=user, defaults={"role": role}
        )
        if created:
            record_event(
                agency_id=agency.pk,
                actor=actor,
                action="membership.created",
                target=membership,
                changes={"user": user.email, "role": role},
            )
    return membership


def invite_member(
    *,
    actor: Actor,
    agency: Agency,
    invited_by: AuthUser | None,
    email: str,
    role: str,
    accept_url_base: str,
) -> Invitation:
    """Create an invitation and email its one-time link. Only the token's hash is stored."""
    ensure_agency_active(agency)
    email = User.objects.normalize_email(email).lower()
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}.")
    with agency_scope(agency), transaction.atomic():
        if Membership.objects.filter(agency=agency, user__email__iexact=email).exists():
            raise ApplicationError(f"{email} is already a member of {agency.name}.")
        token = secrets.token_urlsafe(32)
        invitation = Invitation.objects.create(
            agency=agency,
            email=email,
            role=role,
            token_hash=sha256_hex(token),
            invited_by=invited_by,
            expires_at=timezone.now() + INVITATION_TTL,
        )
        record_event(
            agency_id=agency.pk,
            actor=actor,
            action="invitation.created",
            target=invitation,
            changes={"email": email, "role": role},
        )
        link = accept_url_base + reverse("frontend:accept_invitation", args=[token])
        transaction.on_commit(lambda: _send_invitation_email(invitation, link))
    return invitation


def _send_invitation_email(invitation: Invitation, link: str) -> None:
    send_mail(
        subject=f"You are invited to {invitation.agency.name} on Civic Relay",
        message=(
            f"You have been invited to join {invitation.agency.name} on Civic Relay as "
            f"{invitation.get_role_display()}.\n\nAccept within 7 days: {link}\n"
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )


def revoke_invitation(*, actor: Actor, agency: Agency, invitation: Invitation) -> None:
    with agency_scope(agency), transaction.atomic():
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        record_event(
            agency_id=agency.pk, actor=actor, action="invitation.revoked", target=invitation
        )


def accept_invitation(
    *, actor_ip: str | None, invitation: Invitation, user: AuthUser
) -> Membership:
    """The invitee (signed in or just registered) joins the agency with the invited role."""
    if user.email.lower() != invitation.email.lower():
        raise ApplicationError(
            f"This invitation is for {invitation.email}; sign in with that address to accept it."
        )
    agency = invitation.agency
    ensure_agency_active(agency)
    actor = Actor(type="user", id=str(user.pk), label=user.email, ip_address=actor_ip)
    with agency_scope(agency), transaction.atomic():
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        record_event(
            agency_id=agency.pk, actor=actor, action="invitation.accepted", target=invitation
        )
        return add_member(actor=actor, agency=agency, user=user, role=invitation.role)


def create_user_for_invitation(*, invitation: Invitation, password: str) -> AuthUser:
    user = User(username=invitation.email, email=invitation.email)
    user.set_password(password)
    user.save()
    return user


def _ensure_an_admin_remains(agency: Agency, leaving: Membership) -> None:
    others = Membership.objects.filter(agency=agency, role=Role.AGENCY_ADMIN).exclude(pk=leaving.pk)
    if leaving.role == Role.AGENCY_ADMIN and not others.exists():
        raise ApplicationError("An agency must keep at least one agency admin.")


def change_member_role(
    *, actor: Actor, agency: Agency, membership: Membership, role: str
) -> Membership:
    ensure_agency_active(agency)
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}.")
    with agency_scope(agency), transaction.atomic():
        if role != Role.AGENCY_ADMIN:
            _ensure_an_admin_remains(agency, membership)
        previous, membership.role = membership.role, role
        membership.save(update_fields=["role"])
        record_event(
            agency_id=agency.pk,
            actor=actor,
            action="membership.role_changed",
            target=membership,
            changes={"user": membership.user.email, "role": [previous, role]},
        )
    return membership


def set_member_phone(
    *, actor: Actor, agency: Agency, membership: Membership, phone: str
) -> Membership:
    """The member's own WhatsApp number (international format; "" clears it), stored as
    E.164. While the agency is in trial mode it may send to its members' numbers."""
    ensure_agency_active(agency)
    phone_e164 = _e164(phone) if phone.strip() else ""
    with agency_scope(agency), transaction.atomic():
        previous, membership.phone_e164 = membership.phone_e164, phone_e164
        membership.save(update_fields=["phone_e164"])
        record_event(
            agency_id=agency.pk,
            actor=actor,
            action="membership.phone_changed",
            target=membership,
            changes={"user": membership.user.email, "phone_e164": [previous, phone_e164]},
        )
    return membership


def _e164(phone: str) -> str:
    import phonenumbers

    try:
        number = phonenumbers.parse(phone.strip(), None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ApplicationError(
            "Enter a valid phone number in international format, starting with + and the "
            "country code (+1 512 555 0100)."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def remove_member(
    *,
    actor: Actor,
    agency: Agency,
    membership: Membership,
    transfer_api_credentials_to: Membership | None = None,
) -> list[ApiCredential]:
    """Remove a member, sign them out everywhere and revoke the API keys they created.

    A leaver's keys would otherwise keep working for whoever holds them. The admin may
    first hand them to another admin (``transfer_api_credentials_to``), in the same
    transaction. Returns the keys revoked. Allowed while the agency is suspended (it only
    takes access away), except the transfer.
    """
    with agency_scope(agency), transaction.atomic():
        _ensure_an_admin_remains(agency, membership)
        user = membership.user
        if transfer_api_credentials_to is not None:
            transfer_api_credentials(
                actor=actor, agency=agency, from_user=user, to=transfer_api_credentials_to
            )
        record_event(
            agency_id=agency.pk,
            actor=actor,
            action="membership.removed",
            target=membership,
            changes={"user": user.email, "role": membership.role},
        )
        revoked = list(live_api_credentials_created_by(agency, user).select_for_update())
        for credential in revoked:
            _revoke(actor, agency, credential, reason=f"its creator {user.email} was removed")
        membership.delete()
        transaction.on_commit(lambda: end_all_sessions(user))
    return revoked


def transfer_api_credentials(
    *, actor: Actor, agency: Agency, from_user: AuthUser, to: Membership
) -> list[ApiCredential]:
    """Make another agency admin the creator of ``from_user``'s live API keys (audited)."""
    ensure_agency_active(agency)
    if to.agency_id != agency.pk or to.role != Role.AGENCY_ADMIN:
        raise ApplicationError("API keys can only be transferred to an admin of this agency.")
    if to.user_id == from_user.pk:
        raise ApplicationError("Choose another admin to transfer the API keys to.")
    with agency_scope(agency), transaction.atomic():
        credentials = list(live_api_credentials_created_by(agency, from_user).select_for_update())
        for credential in credentials:
            credential.created_by = to.user
            credential.save(update_fields=["created_by"])
            record_event(
                agency_id=agency.pk,
                actor=actor,
                action="api_credential.transferred",
                target=credential,
                changes={"created_by": [from_user.email, to.user.email]},
            )
    return credentials


def end_all_sessions(user: AuthUser) -> int:
    from allauth.usersessions.models import UserSession

    sessions = list(UserSession.objects.filter(user=user))
    for session in sessions:
        session.end()
    return len(sessions)


def _unique_violation_message(what: str) -> ApplicationError:
    # Never say which agency holds it: that would leak another tenant's data.
    return ApplicationError(
        f"This {what} is already connected to an account on Civic Relay. Meta allows a "
        f"{what} on one platform only: disconnect it there first."
    )


def connect_waba(
    *,
    actor: Actor,
    agency: Agency,
    waba_id: str,
    name: str,
    access_token: str,
    app_secret: str = "",
    business_id: str = "",
    business_name: str = "",
) -> WhatsAppBusinessAccount:
    ensure_agency_active(agency)
    with agency_scope(agency):
        try:
            with transaction.atomic():
                portfolio = None
                if business_id:
                    portfolio, _ = BusinessPortfolio.objects.get_or_create(
                        agency=agency,
                        business_id=business_id,
                        defaults={"name": business_name or name},
                    )
                waba = WhatsAppBusinessAccount.objects.create(
                    agency=agency,
                    portfolio=portfolio,
                    waba_id=waba_id,
                    name=name,
                    access_token=access_token,
                    app_secret=app_secret,
                )
                record_event(
                    agency_id=agency.pk,
                    actor=actor,
                    action="waba.connected",
                    target=waba,
                    changes={
                        "waba_id": waba_id,
                        "name": name,
                        "access_token": "set",
                        "app_secret": "set" if app_secret else "",
                    },
                )
        except IntegrityError as exc:
            what = (
                "business portfolio" if "business_id" in str(exc) else "WhatsApp Business Account"
            )
            raise _unique_violation_message(what) from exc
    return waba


def connect_phone_number(
    *,
    actor: Actor,
    agency: Agency,
    waba: WhatsAppBusinessAccount,
    phone_number_id: str,
    display_phone_number: str,
    verified_name: str,
    throughput_tier: int = 80,
    access_token: str = "",
) -> PhoneNumber:
    ensure_agency_active(agency)
    with agency_scope(agency):
        try:
            with transaction.atomic():
                number = PhoneNumber(
                    agency=agency,
                    waba=waba,
                    phone_number_id=phone_number_id,
                    display_phone_number=display_phone_number,
                    verified_name=verified_name,
                    throughput_tier=throughput_tier,
                    access_token=access_token,
                )
                number.full_clean(validate_unique=False)
                number.save()
                record_event(
                    agency_id=agency.pk,
                    actor=actor,
                    action="phone_number.connected",
                    target=number,
                    changes={
                        "phone_number_id": phone_number_id,
                        "display_phone_number": display_phone_number,
                        "throughput_tier": throughput_tier,
                    },
                )
        except IntegrityError as exc:
            raise _unique_violation_message("phone number") from exc
    return number


def set_phone_number_status(
    *, actor: Actor, number: PhoneNumber, status: str, reason: str = ""
) -> PhoneNumber:
    with agency_scope(number.agency_id), transaction.atomic():
        previous, number.status = number.status, status
        fields = ["status"]
        if status == PhoneNumber.Status.BANNED and previous != PhoneNumber.Status.BANNED:
            # Kept on the number: a reinstatement gives it back (not the audit trail's job).
            number.status_before_ban = previous
            fields.append("status_before_ban")
        number.save(update_fields=fields)
        record_event(
            agency_id=number.agency_id,
            actor=actor,
            action="phone_number.status_changed",
            target=number,
            changes={"status": [previous, status], "reason": reason},
        )
        if previous != status:
            publish_phone_number_changed(number, {"status": [previous, status]}, reason=reason)
    return number


def publish_phone_number_changed(
    number: PhoneNumber, changed: dict[str, list[Any]], *, reason: str = ""
) -> None:
    """``phone_number.changed`` on the event stream, ``changed`` = {field: [old, new]};
    call inside the transaction that made the change, and only when something changed."""
    events.publish(
        agency_id=number.agency_id,
        type=event_types.PHONE_NUMBER_CHANGED,
        subject={"phone_number": number.pk, "waba": number.waba_id},
        payload={"changed": changed, "reason": reason},
    )


def disconnect_phone_number(*, actor: Actor, number: PhoneNumber, reason: str) -> bool:
    """Meta rejected the number's token (190): stop sending from it and, once the change is
    committed, email the agency's admins. Whether it was disconnected now.

    The row is locked and its status read afresh, and the email leaves only after commit:
    a batch applied twice (rolled back, then re-applied change by change) or two workers
    meeting the same failure send one email, never two."""
    with agency_scope(number.agency_id), transaction.atomic():
        number = PhoneNumber.objects.select_for_update().get(pk=number.pk)
        if number.status == PhoneNumber.Status.DISCONNECTED:
            return False
        set_phone_number_status(
            actor=actor, number=number, status=PhoneNumber.Status.DISCONNECTED, reason=reason
        )
        transaction.on_commit(lambda: _email_disconnection(number, reason))
    return True


def _email_disconnection(number: PhoneNumber, reason: str) -> None:
    with agency_scope(number.agency_id):
        admins = Membership.objects.filter(agency_id=number.agency_id, role=Role.AGENCY_ADMIN)
        recipients = [m.user.email for m in admins.select_related("user")]
    send_mail(
        subject=f"WhatsApp number {number.display_phone_number} disconnected",
        message=(
            f"Meta rejected the access token of {number.display_phone_number}: {reason}\n"
            "Messages from this number are refused until an admin reconnects it."
        ),
        from_email=None,
        recipient_list=recipients,
    )


def create_api_credential(
    *,
    actor: Actor,
    agency: Agency,
    created_by: AuthUser | None,
    name: str,
    scopes: Iterable[str] = (),
    kind: str = ApiCredential.Kind.LIVE,
) -> tuple[ApiCredential, str]:
    """A new API key for integrators with ``scopes`` (``tenants.api.scopes.Scope`` values).

    The raw key is returned once and never stored. A ``test`` key's sends go to the Cloud
    API simulator only (honoured by the send path).
    """
    from tenants.api.scopes import Scope

    ensure_agency_active(agency)
    chosen = sorted(set(scopes))
    unknown = set(chosen) - {s.value for s in Scope}
    if unknown:
        raise ApplicationError(f"Unknown scopes: {', '.join(sorted(unknown))}.")
    if kind not in ApiCredential.Kind.values:
        raise ApplicationError(f"Unknown kind of key: {kind}.")
    prefix = secrets.token_hex(6)
    raw_key = f"cr_{prefix}_{secrets.token_urlsafe(32).replace('_', '-')}"
    with agency_scope(agency), transaction.atomic():
        credential = ApiCredential.objects.create(
            agency=agency,
            name=name,
            prefix=prefix,
            key_hash=sha256_hex(raw_key),
            created_by=created_by,
            scopes=chosen,
            kind=kind,
        )
        record_event(
            agency_id=agency.pk,
            actor=actor,
            action="api_credential.created",
            target=credential,
            changes={"name": name, "prefix": prefix, "scopes": chosen, "kind": kind},
        )
    return credential, raw_key


def issue_access_token(
    *, actor: Actor, credential: ApiCredential, scopes: Iterable[str] | None = None
) -> tuple[ApiAccessToken, str]:
    """An OAuth 2.0 access token (client credentials grant) for ``credential``.

    ``scopes`` narrows the credential's (None: all of them); asking for a scope the
    credential lacks is refused (RFC 6749 §5.2 ``invalid_scope``). The raw token is returned
    once; only its SHA-256 is kept. It expires after ``API_ACCESS_TOKEN_SECONDS``. Audited
    like a sign-in (``api_credential.token_issued``).
    """
    granted = set(credential.scopes)
    wanted = granted if scopes is None else set(scopes)
    if not wanted <= granted:
        raise ApplicationError(
            f"The credential does not hold: {', '.join(sorted(wanted - granted))}."
        )
    lifetime = timedelta(seconds=access_token_seconds())
    raw_token = f"crt_{secrets.token_urlsafe(32)}"
    agency = credential.agency
    with agency_scope(agency), transaction.atomic():
        token = ApiAccessToken.objects.create(
            agency=agency,
            credential=credential,
            token_hash=sha256_hex(raw_token),
            scopes=sorted(wanted),
            expires_at=timezone.now() + lifetime,
        )
        record_event(
            agency_id=agency.pk,
            actor=actor,
            action="api_credential.token_issued",
            target=credential,
            changes={"scopes": sorted(wanted), "expires_at": token.expires_at.isoformat()},
        )
    return token, raw_token


def access_token_seconds() -> int:
    return int(getattr(settings, "API_ACCESS_TOKEN_SECONDS", 600))


def purge_expired_api_state(*, idempotency_hours: int = 24) -> tuple[int, int]:
    """Delete expired access tokens and idempotency keys older than ``idempotency_hours``.

    Platform housekeeping (beat): neither is a record; both are useless once expired.
    Returns (tokens, keys) deleted.
    """
    from tenants.scoping import system_scope

    now = timezone.now()
    with system_scope():
        tokens, _ = ApiAccessToken.objects.filter(expires_at__lte=now).delete()
        cutoff = now - timedelta(hours=idempotency_hours)
        keys, _ = IdempotencyKey.objects.filter(created_at__lte=cutoff).delete()
    return tokens, keys


def revoke_api_credential(*, actor: Actor, agency: Agency, credential: ApiCredential) -> None:
    with agency_scope(agency), transaction.atomic():
        _revoke(actor, agency, credential)


def _revoke(actor: Actor, agency: Agency, credential: ApiCredential, reason: str = "") -> None:
    credential.revoked_at = timezone.now()
    credential.save(update_fields=["revoked_at"])
    record_event(
        agency_id=agency.pk,
        actor=actor,
        action="api_credential.revoked",
        target=credential,
        changes={"name": credential.name, "reason": reason} if reason else {},
    )


def validate_new_password(password: str, user: AuthUser | None = None) -> None:
    from django.contrib.auth.password_validation import validate_password

    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ApplicationError(" ".join(exc.messages)) from exc
