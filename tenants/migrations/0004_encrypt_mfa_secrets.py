"""Encrypt the TOTP secrets and recovery-code seeds that allauth stored in the clear.

From now on ``tenants.adapters.MFAAdapter`` encrypts them on write (FIELD_ENCRYPTION_KEY,
as for access tokens); this brings the rows written before it in line. A value that already
decrypts is left alone, so the migration can run twice.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import migrations

from tenants import crypto

_SINGLE_KEYS = ("secret", "seed")  # TOTP secret, recovery-code seed
_LIST_KEYS = ("migrated_codes",)  # recovery codes imported from django-allauth < 0.56


def _is_encrypted(value: str) -> bool:
    try:
        crypto.decrypt(value)
    except ImproperlyConfigured:  # does not decrypt with our keys: plaintext
        return False
    return True


def _convert(data: dict, change) -> bool:
    changed = False
    for key in _SINGLE_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value:
            new = change(value)
            changed |= new != value
            data[key] = new
    for key in _LIST_KEYS:
        values = data.get(key)
        if isinstance(values, list):
            new_values = [change(v) if isinstance(v, str) and v else v for v in values]
            changed |= new_values != values
            data[key] = new_values
    return changed


def _encrypt_rows(apps, schema_editor):
    Authenticator = apps.get_model("mfa", "Authenticator")

    def encrypt(value: str) -> str:
        return value if _is_encrypted(value) else crypto.encrypt(value)

    for authenticator in Authenticator.objects.filter(type__in=["totp", "recovery_codes"]):
        if _convert(authenticator.data, encrypt):
            authenticator.save(update_fields=["data"])


def _decrypt_rows(apps, schema_editor):
    Authenticator = apps.get_model("mfa", "Authenticator")

    def decrypt(value: str) -> str:
        return crypto.decrypt(value) if _is_encrypted(value) else value

    for authenticator in Authenticator.objects.filter(type__in=["totp", "recovery_codes"]):
        if _convert(authenticator.data, decrypt):
            authenticator.save(update_fields=["data"])


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0003_webhook_ingestion"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(_encrypt_rows, _decrypt_rows)]
