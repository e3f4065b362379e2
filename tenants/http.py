"""The request as ``AgencyMiddleware`` leaves it, for type hints (never instantiated).

Django's ``HttpRequest`` knows nothing of the attributes our middleware sets; views and
permission checks annotate their request with these so the type checker does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeGuard, cast

from django.contrib.auth.models import User
from django.http import Http404, HttpRequest

from tenants.models import Agency, ApiCredential, Membership

if TYPE_CHECKING:
    from rest_framework.request import Request


class AgencyRequest(HttpRequest):
    """Any request past ``AgencyMiddleware``: the agency, if any, and who acts in it."""

    agency: Agency | None
    membership: Membership | None
    api_credential: ApiCredential | None
    _user_memberships: list[Membership]


class SignedInRequest(AgencyRequest):
    """A request to a view behind ``login_required``."""

    user: User


class MemberRequest(SignedInRequest):
    """A request to a view behind ``agency_perm_required``: a member of the current agency."""

    agency: Agency
    membership: Membership


def is_signed_in(request: AgencyRequest) -> TypeGuard[SignedInRequest]:
    return request.user.is_authenticated


def agency_request(request: Request) -> AgencyRequest:
    """The Django request under a DRF one, with the attributes ``AgencyMiddleware`` set."""
    return cast(AgencyRequest, request._request)


def request_agency(request: Request) -> Agency:
    """The agency of an API request. ``IsAgencyMember`` lets nobody without one through;
    should a view run without it anyway, it is a 404, never another agency's data."""
    agency = agency_request(request).agency
    if agency is None:
        raise Http404
    return agency
