from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.http import HttpRequest

from tenants import crypto


class AccountAdapter(DefaultAccountAdapter):
    """Staff join by invitation only: there is no open sign-up."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False


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
