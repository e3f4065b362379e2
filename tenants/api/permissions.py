"""Who may call a view: API credentials by scope, staff sessions by role.

A view declares both::

    class AuditEventListApi(ListAPIView):
        required_perm = Perm.VIEW_AUDIT        # staff in the browser: their role
        required_scope = Scope.AUDIT_READ      # integrators: the credential's scopes

``required_scope`` may be a dict by HTTP method (``{"GET": Scope.X, "POST": Scope.Y}``), or
``ANY_SCOPE`` for reads every credential of the agency may make (the agency, its phone
numbers). A view that declares no scope refuses every credential (fail closed): a new
endpoint cannot be opened to keys by forgetting it. A credential without the scope gets
``403`` with code ``insufficient_scope`` (and ``WWW-Authenticate: Bearer
error="insufficient_scope"``, RFC 6750 §3.1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import BasePermission

from tenants.api.exceptions import InsufficientScope
from tenants.http import agency_request
from tenants.permissions import Perm

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

ANY_SCOPE = "*"


def required_scope(view: APIView, method: str) -> str | None:
    """The scope the view needs for ``method``; None when it declares none (no credential)."""
    declared = getattr(view, "required_scope", None)
    if isinstance(declared, dict):
        fallback = declared.get("GET") if method in ("HEAD", "OPTIONS") else None
        declared = declared.get(method) or fallback
    return str(declared) if declared is not None else None


class IsAgencyMember(BasePermission):
    """A member of the current agency holding the view's ``required_perm``, or a credential
    of the agency holding its ``required_scope``."""

    message = "You do not have access to this agency or action."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not hasattr(view, (request.method or "GET").lower()):
            return True  # a method the view has not: DRF answers 405, as it should
        django_request = agency_request(request)
        if getattr(django_request, "agency", None) is None:
            return False
        credential = django_request.api_credential
        if credential is not None:
            scope = required_scope(view, request.method or "GET")
            if scope is None:
                return False
            if scope != ANY_SCOPE and not credential.has_scope(scope):
                raise InsufficientScope(scope)
            return True
        membership = django_request.membership
        perm = getattr(view, "required_perm", Perm.VIEW_AGENCY)
        return membership is not None and membership.has_perm(perm)
