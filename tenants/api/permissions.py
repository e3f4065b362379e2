from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import BasePermission

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

from tenants.http import agency_request
from tenants.permissions import Perm


def _actor_has_perm(request: Request, perm: Perm) -> bool:
    django_request = agency_request(request)
    holder = django_request.api_credential or django_request.membership
    return holder is not None and holder.has_perm(perm)


class IsAgencyMember(BasePermission):
    """A member or API key of the current agency, holding the view's ``required_perm``."""

    message = "You do not have access to this agency or action."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if getattr(request._request, "agency", None) is None:
            return False
        perm = getattr(view, "required_perm", Perm.VIEW_AGENCY)
        return _actor_has_perm(request, perm)
