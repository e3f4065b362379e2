from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from tenants import crypto


class AccountAdapter(DefaultAccountAdapter):
    """Staff join by invitation only: there is no open sign-up."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def validation_error(self, code: str, *args: Any) -> ValidationError:
        # allauth refuses a throttled password (per account) and a throttled second factor
        # (per user) through this one call: audit both, like failed passwords.
        if code == "too_many_login_attempts":
            from tenants.signals import record_sign_in_throttled

            record_sign_in_throttled(context.request, limit="account")
        return super().validation_error(code, *args)


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery-code seeds are stored encrypted with FIELD_ENCRYPTION_KEY.

    allauth stores them in ``Authenticator.data`` and passes every write and read through
    these two hooks; a database dump alone then yields no second factor. Rows written
    before this adapter are encrypted by migration ``tenants.0004``.
    """

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)


def respond_429(request: HttpRequest) -> HttpResponse:
    """allauth's "too many requests" answer (``handler429`` in bsp/urls.py), audited: the
    per-IP sign-in limit refuses before any password is checked."""
    from allauth.core.internal.ratelimit import handler429

    from tenants.signals import record_sign_in_throttled

    record_sign_in_throttled(request, limit="ip")
    return handler429(request)
