"""Encryption at rest for secrets (access tokens, app secrets).

Fernet (AES-128-CBC + HMAC-SHA256) keyed by ``FIELD_ENCRYPTION_KEY``. Several comma-
separated keys may be given: the first encrypts, all decrypt, so a key can be rotated
by prepending the new one and re-saving the rows.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet(keys: str) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not set: secrets cannot be stored.")
    return MultiFernet([Fernet(key.strip()) for key in keys.split(",") if key.strip()])


def encrypt(plaintext: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted: FIELD_ENCRYPTION_KEY differs from the key "
            "it was encrypted with."
        ) from exc


class EncryptedTextField(models.TextField):
    """A text column stored encrypted. The Python value is the plaintext (or "")."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str:
        return decrypt(value) if value else ""

    def get_prep_value(self, value: Any) -> str:
        return encrypt(str(value)) if value else ""
