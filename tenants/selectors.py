"""Reads about agencies, memberships and credentials."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Count, QuerySet
from django.utils import timezone

from tenants.http import SignedInRequest
from tenants.models import (
    Agency,
    ApiAccessToken,
    ApiCredential,
    Invitation,
    Membership,
    PhoneNumber,
    WhatsAppBusinessAccount,
)
from tenants.permissions import ROLES_REQUIRING_MFA, Role
from tenants.scoping import agency_scope, system_scope

_PREFIX = re.compile(r"[A-Za-z0-9]{1,16}")


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def memberships_for_user(user: User) -> list[Membership]:
    """All of a user's agencies (a cross-agency read, limited to the user's own rows)."""
    with system_scope():
        return list(
            Membership.objects.filter(user=user).select_related("agency").order_by("agency__name")
        )


def get_membership(*, agency_id: int, user: User) -> Membership | None:
    with agency_scope(agency_id):
        return Membership.objects.select_related("agency").filter(user=user).first()


def memberships_for_request(request: SignedInRequest) -> list[Membership]:
    """``memberships_for_user`` once per request (middleware, MFA check and switcher share it)."""
    if not hasattr(request, "_user_memberships"):
        request._user_memberships = memberships_for_user(request.user)
    return request._user_memberships


def user_requires_mfa(user: User, memberships: list[Membership] | None = None) -> bool:
    """Platform operators and holders of a sensitive role anywhere must use MFA."""
    if user.is_superuser or user.is_staff:
        return True
    memberships = memberships_for_user(user) if memberships is None else memberships
    return any(m.role in ROLES_REQUIRING_MFA for m in memberships)


def members_of(agency: Agency) -> QuerySet[Membership]:
    return Membership.objects.filter(agency=agency).select_related("user")


def pending_invitations(agency: Agency) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        agency=agency, accepted_at=None, revoked_at=None, expires_at__gt=timezone.now()
    ).select_related("invited_by")


def find_invitation(raw_token: str) -> Invitation | None:
    """The pending invitation for an emailed token, whatever its agency (token = identity)."""
    with system_scope():
        invitation = (
            Invitation.objects.select_related("agency")
            .filter(token_hash=sha256_hex(raw_token), accepted_at=None, revoked_at=None)
            .first()
        )
    if invitation is None or invitation.expires_at <= timezone.now():
        return None
    return invitation


def find_api_credential(raw_key: str) -> ApiCredential | None:
    """The live credential for a presented key ``cr_<prefix>_<secret>``, or None."""
    parts = raw_key.split("_")
    if len(parts) != 3 or parts[0] != "cr" or not _PREFIX.fullmatch(parts[1]):
        return None  # a malformed key (NUL bytes, huge, wrong alphabet) never reaches SQL
    with system_scope():
        credential = (
            ApiCredential.objects.select_related("agency")
            .filter(prefix=parts[1], revoked_at=None)
            .first()
        )
    if credential is None or not hmac.compare_digest(credential.key_hash, sha256_hex(raw_key)):
        return None
    return credential


def find_api_token(raw_token: str) -> ApiAccessToken | None:
    """The unexpired OAuth access token ``crt_<secret>`` of a live credential, or None.

    The credential comes back on ``token.credential`` with ``access_token`` set, so its
    ``granted_scopes`` are the token's.
    """
    if not raw_token.startswith("crt_") or len(raw_token) > 100:
        return None
    with system_scope():
        token = (
            ApiAccessToken.objects.select_related("credential__agency")
            .filter(
                token_hash=sha256_hex(raw_token),
                expires_at__gt=timezone.now(),
                credential__revoked_at=None,
            )
            .first()
        )
    if token is None:
        return None
    token.credential.access_token = token
    return token


def phone_numbers_of(agency: Agency) -> QuerySet[PhoneNumber]:
    return PhoneNumber.objects.filter(agency=agency).select_related("waba")


def wabas_of(agency: Agency) -> QuerySet[WhatsAppBusinessAccount]:
    return WhatsAppBusinessAccount.objects.filter(agency=agency).select_related("portfolio")


def other_admins(agency: Agency, membership: Membership) -> QuerySet[Membership]:
    """The agency admins besides ``membership`` (who may take over a leaver's API keys)."""
    return (
        Membership.objects.filter(agency=agency, role=Role.AGENCY_ADMIN)
        .exclude(pk=membership.pk)
        .select_related("user")
    )


def live_api_credentials_created_by(agency: Agency, user: User) -> QuerySet[ApiCredential]:
    """The agency's unrevoked API keys that ``user`` created (revoked when they leave)."""
    return ApiCredential.objects.filter(agency=agency, created_by=user, revoked_at=None)


def api_credentials_of(agency: Agency) -> QuerySet[ApiCredential]:
    return ApiCredential.objects.filter(agency=agency).select_related("created_by")


@dataclass(frozen=True)
class AgencyOverview:
    agency: Agency
    member_count: int
    phone_number_count: int


def agencies_overview() -> list[AgencyOverview]:
    """Every agency with its size, for the platform operators' console (cross-agency)."""
    with system_scope():
        members = dict(Membership.objects.values_list("agency").annotate(n=Count("id")).order_by())
        numbers = dict(PhoneNumber.objects.values_list("agency").annotate(n=Count("id")).order_by())
        return [
            AgencyOverview(agency, members.get(agency.pk, 0), numbers.get(agency.pk, 0))
            for agency in Agency.objects.order_by("name")
        ]
