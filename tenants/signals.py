"""Sign-ins, sign-outs and failed sign-ins are security events: they go to the audit trail."""

from __future__ import annotations

from typing import Any

from allauth.mfa.signals import authentication_failed as mfa_authentication_failed
from allauth.mfa.signals import authenticator_added, authenticator_removed
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from records.audit import Actor, record_event
from tenants.selectors import memberships_for_user


def _record_for_user_agencies(user: Any, request: Any, action: str, **changes: Any) -> None:
    actor = Actor.from_request(request) if request is not None else Actor.system("auth")
    if user is not None and actor.type == "system":
        actor = Actor("user", str(user.pk), user.email, actor.ip_address)
    agency_ids: list[int | None] = [m.agency_id for m in memberships_for_user(user)] if user else []
    for agency_id in agency_ids or [None]:
        record_event(
            agency_id=agency_id,
            actor=actor,
            action=action,
            object_type="auth.user",
            object_id=str(user.pk) if user else "",
            changes=changes,
        )


@receiver(user_logged_in, dispatch_uid="audit.login")
def _on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    _record_for_user_agencies(user, request, "auth.logged_in")


@receiver(user_logged_out, dispatch_uid="audit.logout")
def _on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        _record_for_user_agencies(user, request, "auth.logged_out")


@receiver(user_login_failed, dispatch_uid="audit.login_failed")
def _on_login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    # The platform chain: the attempted account may not exist or belong to any agency.
    ip = request.META.get("REMOTE_ADDR") if request is not None else None
    attempted = str(credentials.get("email") or credentials.get("username") or "")[:200]
    record_event(
        agency_id=None,
        actor=Actor("system", "", "auth", ip),
        action="auth.login_failed",
        changes={"attempted": attempted},
    )


@receiver(authenticator_added, dispatch_uid="audit.mfa_added")
def _on_mfa_added(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    _record_for_user_agencies(user, request, "auth.mfa_enrolled", type=authenticator.type)


@receiver(authenticator_removed, dispatch_uid="audit.mfa_removed")
def _on_mfa_removed(
    sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any
) -> None:
    _record_for_user_agencies(user, request, "auth.mfa_removed", type=authenticator.type)


@receiver(mfa_authentication_failed, dispatch_uid="audit.mfa_failed")
def _on_mfa_failed(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    # The password was right: the account is known, so its agencies' chains get the event.
    _record_for_user_agencies(
        user,
        request,
        "auth.mfa_failed",
        type=authenticator.type,
        reauthentication=bool(kwargs.get("reauthentication", False)),
    )


def record_sign_in_throttled(request: Any, *, limit: str) -> None:
    """A sign-in attempt refused by a rate limit (``limit``: "account" or "ip"), audited on
    the platform chain like a failed password (the account named may not exist)."""
    ip = request.META.get("REMOTE_ADDR") if request is not None else None
    path = request.path if request is not None else ""
    attempted = ""
    if request is not None and request.method == "POST":
        attempted = str(request.POST.get("login", ""))
    stage = getattr(request, "_login_stage", None)  # signing in, at the second factor
    stage_user = getattr(getattr(stage, "login", None), "user", None)
    if not attempted and stage_user is not None:
        attempted = stage_user.email
    record_event(
        agency_id=None,
        actor=Actor("system", "", "auth", ip),
        action="auth.login_throttled",
        changes={
            "attempted": attempted[:200],
            "limit": limit,
            "step": "second_factor" if "/2fa/" in path else "password",
        },
    )
