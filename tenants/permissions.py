"""Roles and what each may do: the one place views, the API and the admin consult."""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    AGENCY_ADMIN = "agency_admin", "Agency admin"
    SUPERVISOR = "supervisor", "Supervisor"
    AGENT = "agent", "Agent"
    RECORDS_OFFICER = "records_officer", "Records officer"
    INTEGRATOR = "integrator", "Integrator"


class Perm(StrEnum):
    VIEW_AGENCY = "view_agency"
    MANAGE_AGENCY = "manage_agency"  # agency settings
    MANAGE_MEMBERS = "manage_members"  # invite, change roles, remove
    MANAGE_WHATSAPP = "manage_whatsapp"  # WABAs, phone numbers, tokens
    VIEW_INBOX = "view_inbox"
    REPLY = "reply"
    ASSIGN = "assign"
    MANAGE_TEAMS = "manage_teams"
    VIEW_TEMPLATES = "view_templates"
    MANAGE_TEMPLATES = "manage_templates"  # create, edit, submit, delete
    VIEW_CONTACTS = "view_contacts"  # contacts and their consent history
    MANAGE_CONTACTS = "manage_contacts"  # opt-ins, opt-outs, imports, consent topics
    VIEW_CAMPAIGNS = "view_campaigns"
    RUN_CAMPAIGNS = "run_campaigns"  # create, schedule, pause, resume, cancel
    MANAGE_RECORDS = "manage_records"  # retention, holds, exports, FOIA
    VIEW_AUDIT = "view_audit"
    MANAGE_API_KEYS = "manage_api_keys"
    USE_API = "use_api"


_AGENT = {Perm.VIEW_AGENCY, Perm.VIEW_INBOX, Perm.REPLY}
# Supervisors see the agency's templates, contacts and campaigns; only admins change them.
_SUPERVISOR = _AGENT | {
    Perm.ASSIGN,
    Perm.MANAGE_TEAMS,
    Perm.VIEW_AUDIT,
    Perm.VIEW_TEMPLATES,
    Perm.VIEW_CONTACTS,
    Perm.VIEW_CAMPAIGNS,
}

ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Role.AGENCY_ADMIN: frozenset(Perm) - {Perm.MANAGE_RECORDS},
    Role.SUPERVISOR: frozenset(_SUPERVISOR),
    Role.AGENT: frozenset(_AGENT),
    Role.RECORDS_OFFICER: frozenset(
        # VIEW_CONTACTS: a contact's consent history is exported for records requests.
        {
            Perm.VIEW_AGENCY,
            Perm.VIEW_INBOX,
            Perm.MANAGE_RECORDS,
            Perm.VIEW_AUDIT,
            Perm.VIEW_CONTACTS,
        }
    ),
    Role.INTEGRATOR: frozenset({Perm.VIEW_AGENCY, Perm.USE_API, Perm.MANAGE_API_KEYS}),
}

# Roles whose holders must enroll in multi-factor authentication before anything else.
ROLES_REQUIRING_MFA = frozenset({Role.AGENCY_ADMIN, Role.RECORDS_OFFICER})


def role_has_perm(role: str, perm: Perm) -> bool:
    return perm in ROLE_PERMISSIONS.get(role, frozenset())
