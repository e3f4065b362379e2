"""Helpers of the template pages' browser tests: an agency admin signs in with their
authenticator code (admins must use two-factor authentication)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tenants.models import Membership
from tenants.permissions import Role
from tests.frontend.conftest import enroll_totp
from tests.frontend.test_browser import sign_in, totp_code


def admin_with_secret(make_member) -> tuple[Membership, str]:
    admin = make_member(Role.AGENCY_ADMIN, mfa=False)
    return admin, enroll_totp(admin.user)


def sign_in_admin(page: Page, admin: Membership, secret: str) -> None:
    sign_in(page, admin.user.email)
    expect(page.get_by_label("Code", exact=True)).to_be_visible()
    page.get_by_label("Code", exact=True).fill(totp_code(secret))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
