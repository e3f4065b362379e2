"""Scopes: what keys made before them may do, and who may grant which."""

from __future__ import annotations

import importlib

import pytest

from tenants.api.scopes import Scope, grantable_scopes, parse_scopes, scopes_of_role
from tenants.permissions import Role

migration = importlib.import_module("tenants.migrations.0007_api_scopes_tokens_idempotency")


@pytest.mark.parametrize("role", list(Role))
def test_the_migration_gives_old_keys_the_scopes_their_role_allowed(role):
    assert set(migration.SCOPES_OF_ROLE[role]) == {str(s) for s in scopes_of_role(role)}


def test_an_integrator_key_made_before_scopes_keeps_exactly_webhooks():
    assert scopes_of_role(Role.INTEGRATOR) == {Scope.WEBHOOKS_MANAGE}


def test_admins_grant_every_scope_integrators_all_but_oversight_others_none():
    assert grantable_scopes(Role.AGENCY_ADMIN) == set(Scope)
    assert grantable_scopes(Role.INTEGRATOR) == set(Scope) - {
        Scope.AUDIT_READ,
        Scope.RECORDS_EXPORT,
    }
    assert grantable_scopes(Role.AGENT) == set()


def test_an_oauth_scope_parameter_is_space_separated_and_strict():
    assert parse_scopes("messages:read  audit:read") == frozenset(
        {Scope.MESSAGES_READ, Scope.AUDIT_READ}
    )
    assert parse_scopes("messages:read everything") is None
