"""``make totp``: the seeded demo users' current two-factor code, in the demo only."""

from __future__ import annotations

import io

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.core.management import CommandError, call_command

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _with_totp():
    user = UserFactory(email="admin@demo.gov")
    TOTP.activate(user, "JBSWY3DPEHPK3PXP")
    return user


def test_the_demo_prints_the_current_code_with_debug_off(settings):
    settings.DEMO, settings.DEBUG = True, False
    _with_totp()
    out = io.StringIO()
    call_command("demo_totp", "admin@demo.gov", stdout=out)
    code = out.getvalue().strip()
    assert len(code) == 6 and code.isdigit()


def test_outside_the_demo_it_refuses(settings):
    settings.DEMO = False
    _with_totp()
    with pytest.raises(CommandError, match="only in the demo"):
        call_command("demo_totp", "admin@demo.gov")
