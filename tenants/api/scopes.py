"""What an API credential may do: OAuth-style scopes, chosen when the key is created.

Staff in the browser are checked against their role (``tenants.permissions``); integrators'
credentials against their scopes only. ``SCOPE_PERMS`` ties the two together: the role
permission a scope corresponds to, used to give keys created before scopes existed the
scopes their role allowed (migration ``tenants.0007``) and to decide which scopes a member
may grant.
"""

from __future__ import annotations

from enum import StrEnum

from tenants.permissions import Perm, Role, role_has_perm


class Scope(StrEnum):
    MESSAGES_SEND = "messages:send"
    MESSAGES_READ = "messages:read"
    CONTACTS_READ = "contacts:read"
    CONTACTS_WRITE = "contacts:write"
    TEMPLATES_MANAGE = "templates:manage"
    CAMPAIGNS_MANAGE = "campaigns:manage"
    RECORDS_EXPORT = "records:export"
    AUDIT_READ = "audit:read"
    WEBHOOKS_MANAGE = "webhooks:manage"


SCOPE_DESCRIPTIONS: dict[Scope, str] = {
    Scope.MESSAGES_SEND: "Send messages (text, media, templates) to citizens.",
    Scope.MESSAGES_READ: "Read conversations, messages and their delivery statuses.",
    Scope.CONTACTS_READ: "Read contacts and their consent history.",
    Scope.CONTACTS_WRITE: "Create and change contacts; record opt-ins and opt-outs.",
    Scope.TEMPLATES_MANAGE: "Create, submit and read message templates.",
    Scope.CAMPAIGNS_MANAGE: "Create, schedule, pause and cancel campaigns; read their reports.",
    Scope.RECORDS_EXPORT: "Create records exports and requests and download them.",
    Scope.AUDIT_READ: "Read the audit trail and the agency's members.",
    Scope.WEBHOOKS_MANAGE: "Manage event webhook subscriptions and read their delivery log.",
}

# The role permission each scope corresponds to.
SCOPE_PERMS: dict[Scope, Perm] = {
    Scope.MESSAGES_SEND: Perm.REPLY,
    Scope.MESSAGES_READ: Perm.VIEW_INBOX,
    Scope.CONTACTS_READ: Perm.VIEW_CONTACTS,
    Scope.CONTACTS_WRITE: Perm.MANAGE_CONTACTS,
    Scope.TEMPLATES_MANAGE: Perm.MANAGE_TEMPLATES,
    Scope.CAMPAIGNS_MANAGE: Perm.RUN_CAMPAIGNS,
    Scope.RECORDS_EXPORT: Perm.MANAGE_RECORDS,
    Scope.AUDIT_READ: Perm.VIEW_AUDIT,
    Scope.WEBHOOKS_MANAGE: Perm.MANAGE_API_KEYS,
}

# Oversight data an integrator member may not hand to a key (their role cannot read it).
_OVERSIGHT = frozenset({Scope.AUDIT_READ, Scope.RECORDS_EXPORT})


def scopes_of_role(role: str) -> frozenset[Scope]:
    """The scopes whose permission ``role`` holds (what a pre-scope key of that role did)."""
    return frozenset(scope for scope, perm in SCOPE_PERMS.items() if role_has_perm(role, perm))


def grantable_scopes(role: str) -> frozenset[Scope]:
    """The scopes a member of ``role`` (who may manage API keys) may put on a new key.

    Agency admins grant any scope; integrators every scope but the oversight ones (the
    audit trail, records exports), which their own role cannot read either.
    """
    if role == Role.AGENCY_ADMIN:
        return frozenset(Scope)
    if role_has_perm(role, Perm.MANAGE_API_KEYS):
        return frozenset(Scope) - _OVERSIGHT
    return frozenset()


def parse_scopes(text: str) -> frozenset[Scope] | None:
    """An OAuth ``scope`` parameter (space-separated, RFC 6749 §3.3); None if any is unknown."""
    try:
        return frozenset(Scope(item) for item in text.split())
    except ValueError:
        return None
