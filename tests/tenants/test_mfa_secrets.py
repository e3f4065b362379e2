"""TOTP secrets are encrypted at rest, sign-in still works, operators never see a secret."""

from __future__ import annotations

import importlib
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.apps import apps
from django.core.cache import cache
from django.db import connection

from tenants import crypto
from tenants.permissions import Role
from tests.factories import DEFAULT_PASSWORD, MembershipFactory

encryption_migration = importlib.import_module("tenants.migrations.0004_encrypt_mfa_secrets")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def _stored_data(authenticator_pk: int) -> str:
    """The row as PostgreSQL holds it: what a database dump would reveal."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT data::text FROM mfa_authenticator WHERE id = %s", [authenticator_pk])
        return cursor.fetchone()[0]


def _code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.fixture
def admin(agency_a):
    return MembershipFactory(agency=agency_a, role=Role.AGENCY_ADMIN)


def test_the_database_row_holds_no_plaintext_totp_secret(admin):
    secret = generate_totp_secret()
    totp = TOTP.activate(admin.user, secret)
    stored = _stored_data(totp.instance.pk)
    assert secret not in stored
    assert crypto.decrypt(Authenticator.objects.get(pk=totp.instance.pk).data["secret"]) == secret


def test_the_recovery_code_seed_is_encrypted_too(admin):
    codes = RecoveryCodes.activate(admin.user)
    seed = crypto.decrypt(codes.instance.data["seed"])
    assert seed not in _stored_data(codes.instance.pk)
    assert len(codes.generate_codes()) == 10  # still usable


def test_sign_in_with_an_encrypted_totp_secret_still_works(client, admin):
    secret = generate_totp_secret()
    TOTP.activate(admin.user, secret)

    response = client.post(
        "/accounts/login/", {"login": admin.user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    response = client.post("/accounts/2fa/authenticate/", {"code": _code(secret)})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_a_wrong_code_is_still_refused(client, admin):
    TOTP.activate(admin.user, generate_totp_secret())
    client.post("/accounts/login/", {"login": admin.user.email, "password": DEFAULT_PASSWORD})
    response = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert response.status_code == 200
    assert "Incorrect code" in response.text


def test_the_migration_encrypts_existing_plaintext_authenticators(client, admin):
    secret = generate_totp_secret()
    # As allauth's default adapter stored it before: in the clear.
    legacy = Authenticator.objects.create(
        user=admin.user, type=Authenticator.Type.TOTP, data={"secret": secret}
    )
    seeds = Authenticator.objects.create(
        user=admin.user,
        type=Authenticator.Type.RECOVERY_CODES,
        data={"seed": "ab" * 40, "used_mask": 0, "migrated_codes": ["12345678"]},
    )

    encryption_migration._encrypt_rows(apps, None)

    assert secret not in _stored_data(legacy.pk)
    stored_seeds = _stored_data(seeds.pk)
    assert "ab" * 40 not in stored_seeds and "12345678" not in stored_seeds
    seeds.refresh_from_db()
    assert seeds.data["used_mask"] == 0
    assert [crypto.decrypt(c) for c in seeds.data["migrated_codes"]] == ["12345678"]
    # ...and the owner signs in with the same authenticator app as before.
    client.post("/accounts/login/", {"login": admin.user.email, "password": DEFAULT_PASSWORD})
    assert client.post("/accounts/2fa/authenticate/", {"code": _code(secret)}).status_code == 302


def test_the_migration_leaves_already_encrypted_rows_alone(admin):
    secret = generate_totp_secret()
    totp = TOTP.activate(admin.user, secret)
    before = Authenticator.objects.get(pk=totp.instance.pk).data["secret"]
    encryption_migration._encrypt_rows(apps, None)
    after = Authenticator.objects.get(pk=totp.instance.pk).data["secret"]
    assert after == before
    assert crypto.decrypt(after) == secret


def test_the_admin_never_shows_an_authenticators_secret(client, operator, admin):
    secret = generate_totp_secret()
    totp = TOTP.activate(admin.user, secret)
    stored = Authenticator.objects.get(pk=totp.instance.pk).data["secret"]
    client.force_login(operator)
    page = client.get(f"/admin/mfa/authenticator/{totp.instance.pk}/change/")
    assert page.status_code == 200
    assert admin.user.email in page.text
    assert secret not in page.text
    assert stored not in page.text
    assert '"secret"' not in page.text


def test_operators_cannot_type_in_an_authenticator(client, operator):
    client.force_login(operator)
    assert client.get("/admin/mfa/authenticator/add/").status_code == 403
