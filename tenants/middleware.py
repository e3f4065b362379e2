"""Resolve the current agency once per request and run the view inside its scope."""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from tenants.api.problems import problem_response
from tenants.api.ratelimit import Decision, Limit, default_limit, limiter
from tenants.http import AgencyRequest, SignedInRequest, is_signed_in
from tenants.models import ApiCredential, Membership
from tenants.scoping import agency_scope, no_scope, system_scope
from tenants.selectors import (
    find_api_credential,
    find_api_token,
    get_membership,
    memberships_for_request,
)

SESSION_AGENCY_KEY = "agency_id"
# Redis is down or unreachable (connection refused, timeout, still loading its data).
REDIS_UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
logger = logging.getLogger(__name__)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def switch_agency(request: HttpRequest, agency_id: int) -> bool:
    """Make ``agency_id`` the session's agency if the user belongs to it."""
    user = request.user
    if not user.is_authenticated or get_membership(agency_id=agency_id, user=user) is None:
        return False
    request.session[SESSION_AGENCY_KEY] = agency_id
    return True


def _api_credential(request: AgencyRequest) -> ApiCredential | None:
    """The credential of an API key (``Bearer cr_...``) or of an OAuth access token
    (``Bearer crt_...``, whose scopes then narrow the credential's)."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer crt_"):
        token = find_api_token(header.removeprefix("Bearer ").strip())
        return token.credential if token is not None else None
    if not header.startswith("Bearer cr_"):
        return None
    return find_api_credential(header.removeprefix("Bearer ").strip())


def _rate_limited(
    request: AgencyRequest, credential: ApiCredential
) -> Decision | HttpResponse | None:
    """Take a token from the credential's bucket (tenants/api/ratelimit.py); None without
    Redis (the embedded demo: no limit), a 503 problem when Redis is down."""
    bucket = limiter()
    if bucket is None:
        return None
    default = default_limit()
    limit = Limit(
        rate=float(credential.rate_limit_per_second or default.rate),
        burst=credential.rate_limit_burst or default.burst,
    )
    try:
        return bucket.take(credential.prefix, limit)
    except REDIS_UNAVAILABLE as exc:
        return _redis_unavailable(request, exc)


class AgencyMiddleware:
    """Sets ``request.agency`` and ``request.membership`` (or ``request.api_credential``).

    The agency comes from the API key, or from the session for staff, checked against the
    user's memberships on every request (a removed member loses access at once). Platform
    operators in the admin get the cross-agency system scope; everything else runs inside
    the agency's scope, or no scope at all.
    """

    def __init__(self, get_response: Callable[[AgencyRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: AgencyRequest) -> HttpResponse:
        request.agency = None
        request.membership = None
        request.api_credential = None
        credential = _api_credential(request)
        if credential is not None:
            return self._as_api_client(request, credential)
        if request.headers.get("Authorization", "").startswith("Bearer "):
            return problem_response(
                request,
                status=401,
                code="invalid_token",
                detail="The API key or access token is invalid, expired or revoked.",
                headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'},
            )
        user = request.user
        if user.is_authenticated and user.is_superuser and request.path.startswith("/admin/"):
            with system_scope():
                return self.get_response(request)
        if is_signed_in(request):
            membership = self._resolve_membership(request)
            if membership is not None:
                request.agency, request.membership = membership.agency, membership
                refused = _refuse_api_write_while_suspended(request)
                if refused is not None:
                    return refused
                with agency_scope(membership.agency):
                    return self.get_response(request)
        with no_scope():
            return self.get_response(request)

    def _as_api_client(self, request: AgencyRequest, credential: ApiCredential) -> HttpResponse:
        request.agency, request.api_credential = credential.agency, credential
        decision = _rate_limited(request, credential)
        if isinstance(decision, HttpResponse):
            return decision
        if decision is not None and not decision.allowed:
            return problem_response(
                request,
                status=429,
                code="rate_limited",
                detail=(
                    f"This credential may make {decision.limit.rate:g} requests per second "
                    f"(bursts of {decision.limit.burst}). Retry after the Retry-After seconds."
                ),
                headers=decision.headers(),
            )
        refused = _refuse_api_write_while_suspended(request)
        if refused is None:
            with agency_scope(credential.agency):
                if (
                    not credential.last_used_at
                    or (timezone.now() - credential.last_used_at).total_seconds() > 60
                ):
                    ApiCredential.objects.filter(pk=credential.pk).update(
                        last_used_at=timezone.now()
                    )
                response = self.get_response(request)
        else:
            response = refused
        if decision is not None:
            for name, value in decision.headers().items():
                response[name] = value
        return response

    def process_exception(
        self, request: AgencyRequest, exception: Exception
    ) -> HttpResponse | None:
        """A page whose service refused because the agency is suspended: say why (403). A
        request that needed Redis while it is down (sign-in's rate limits live there): 503."""
        from tenants.services import AgencySuspended

        if isinstance(exception, REDIS_UNAVAILABLE):
            return _redis_unavailable(request, exception)
        if not isinstance(exception, AgencySuspended):
            return None
        if request.path.startswith("/api/"):
            return _suspended_json(str(exception), request)
        context = {"reason": str(exception)}
        return render(request, "frontend/suspended.html", context, status=403)

    def _resolve_membership(self, request: SignedInRequest) -> Membership | None:
        agency_id = request.session.get(SESSION_AGENCY_KEY)
        if agency_id is not None:
            membership = get_membership(agency_id=agency_id, user=request.user)
            if membership is not None:
                return membership
            request.session.pop(SESSION_AGENCY_KEY, None)
        memberships = memberships_for_request(request)
        if not memberships:
            return None
        request.session[SESSION_AGENCY_KEY] = memberships[0].agency_id
        return memberships[0]


def _redis_unavailable(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Redis holds the sign-in rate limits: without it, refuse clearly rather than sign in
    unthrottled (a password-guessing window) or answer 500. Meta's webhooks never get here:
    their endpoint does not need Redis."""
    logger.error("Redis unavailable: %s", type(exception).__name__, extra={"path": request.path})
    if request.path.startswith("/api/"):
        response: HttpResponse = problem_response(
            request,
            status=503,
            code="temporarily_unavailable",
            detail="The service is temporarily unavailable. Try again in a minute.",
        )
    else:
        signing_in = request.path.startswith("/accounts/")
        context = {"signing_in": signing_in}
        response = render(request, "frontend/unavailable.html", context, status=503)
    response["Retry-After"] = "60"
    return response


def _suspended_json(message: str, request: HttpRequest | None = None) -> HttpResponse:
    return problem_response(request, status=403, code="agency_suspended", detail=message)


def _refuse_api_write_while_suspended(request: AgencyRequest) -> HttpResponse | None:
    """The API's one check: a suspended agency's API reads, but refuses every unsafe method.

    Here rather than in each view, so that an endpoint added later cannot forget it.
    """
    agency = request.agency
    if (
        agency is None
        or agency.is_active
        or request.method in SAFE_METHODS
        or not request.path.startswith("/api/")
    ):
        return None
    from tenants.services import suspension_reason

    return _suspended_json(suspension_reason(agency), request)


class MfaRequiredMiddleware:
    """Users who must use MFA reach nothing but MFA enrollment and logout until enrolled."""

    ALLOWED_PREFIXES = ("/accounts/", "/static/", "/healthz", "/readyz", "/webhooks/")

    def __init__(self, get_response: Callable[[AgencyRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: AgencyRequest) -> HttpResponse:
        if (
            is_signed_in(request)
            and not request.path.startswith(self.ALLOWED_PREFIXES)
            and request.api_credential is None
            and self._needs_enrollment(request)
        ):
            if request.path.startswith("/api/"):
                return problem_response(
                    request,
                    status=403,
                    code="mfa_required",
                    detail="Enroll in two-factor authentication first.",
                )
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    def _needs_enrollment(self, request: SignedInRequest) -> bool:
        from allauth.mfa.utils import is_mfa_enabled

        from tenants.selectors import memberships_for_request, user_requires_mfa

        memberships = memberships_for_request(request)
        return user_requires_mfa(request.user, memberships) and not is_mfa_enabled(request.user)
