from __future__ import annotations

from typing import Any

from tenants.http import AgencyRequest, is_signed_in
from tenants.permissions import Perm
from tenants.selectors import memberships_for_request


def agency(request: AgencyRequest) -> dict[str, Any]:
    """The current agency, the user's other agencies (for the switcher) and their perms."""
    membership = getattr(request, "membership", None)
    context: dict[str, Any] = {
        "current_agency": getattr(request, "agency", None),
        "membership": membership,
    }
    if membership is not None and is_signed_in(request):
        context["perms_in_agency"] = {p.value for p in Perm if membership.has_perm(p)}
        context["user_memberships"] = lambda: memberships_for_request(request)
    return context
