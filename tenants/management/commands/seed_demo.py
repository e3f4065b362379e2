"""Seed the demo agency "Demo County": one user per role, a WABA and a phone number.

Idempotent: a second run changes nothing and prints no passwords (they were shown once);
``--reset-passwords`` issues new ones.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from inbox.models import AgentStatus, CannedResponse, Label, Team, TeamMember, TeamPhoneNumber
from messaging.campaigns.demo import seed_demo_campaigns
from messaging.consent.demo import seed_demo_consent
from records.audit import Actor
from records.dlp import services as dlp_services
from records.foia.demo import seed as seed_demo_records_request
from records.retention.demo import seed as seed_demo_retention
from records.worm.demo import seed as seed_demo_archive
from templates_mgr.demo import seed_demo_templates
from tenants import services
from tenants.api.scopes import Scope
from tenants.models import Agency, ApiCredential, PhoneNumber
from tenants.permissions import ROLES_REQUIRING_MFA, Role
from tenants.scoping import agency_scope

DEMO_SLUG = "demo-county"
DEMO_DOMAIN = "demo-county.gov"
DEMO_WABA_ID = "102290129340398"
DEMO_PHONE_NUMBER_ID = "106540352242922"
DEMO_DISPLAY_NUMBER = "+1 555 010 0001"
DEMO_ACCESS_TOKEN = "EAAG-demo-county-token"  # noqa: S105 (only valid in the simulator)
OPERATOR_EMAIL = "operator@civic-relay.local"
DEMO_CANNED_RESPONSES = [
    ("hours", "Opening hours", "Our offices are open Monday to Friday, 8 am to 5 pm."),
    ("thanks", "Thank you", "Thank you for contacting Demo County. Is there anything else?"),
    (
        "permit",
        "Permit status",
        "You can check the status of a permit at https://demo-county.gov/permits with your "
        "application number.",
    ),
]
User = get_user_model()


class Command(BaseCommand):
    help = "Create the Demo County agency with one user per role (prints credentials once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset-passwords", action="store_true")

    def handle(self, *args: Any, reset_passwords: bool = False, **options: Any) -> None:
        actor = Actor.system("seed_demo")
        with transaction.atomic():
            agency, created = self._agency(actor)
            credentials = self._users(actor, agency, reset=created or reset_passwords)
            self._whatsapp(actor, agency)
            self._inbox(agency)
            with agency_scope(agency):
                seed_demo_consent(agency, actor)
                seed_demo_templates(agency, actor)
                seed_demo_campaigns(agency, actor)
            self._records(agency, actor)
        if credentials:
            self._print_credentials(credentials)
        if created:
            self._print_api_key(actor, agency)
        else:
            self.stdout.write(
                "Demo County is already seeded; passwords were printed when it was created. "
                "New ones: python manage.py seed_demo --reset-passwords"
            )

    def _agency(self, actor: Actor) -> tuple[Agency, bool]:
        agency = Agency.objects.filter(slug=DEMO_SLUG).first()
        if agency:
            return agency, False
        agency = services.create_agency(
            actor=actor, name="Demo County", slug=DEMO_SLUG, timezone_name="America/Chicago"
        )
        agency.contact_email = f"clerk@{DEMO_DOMAIN}"
        # Approved to go live, as an operator would (its citizens are the simulator's): a new
        # agency is otherwise in trial mode, sending only to its own staff.
        agency.live_approved = True
        agency.save(update_fields=["contact_email", "live_approved"])
        return agency, True

    def _users(
        self, actor: Actor, agency: Agency, *, reset: bool
    ) -> list[tuple[str, str, str, str]]:
        wanted: list[tuple[str, Role | None]] = [
            (f"{role.value.replace('_', '.')}@{DEMO_DOMAIN}", role) for role in Role
        ]
        wanted.append((OPERATOR_EMAIL, None))
        printed = []
        for email, role in wanted:
            user, created = User.objects.get_or_create(
                username=email,
                defaults={"email": email, "is_staff": role is None, "is_superuser": role is None},
            )
            if role is not None:
                services.add_member(actor=actor, agency=agency, user=user, role=role)
            if created or reset:
                password = secrets.token_urlsafe(12)
                user.set_password(password)
                user.save()
                totp = self._totp(user) if role is None or role in ROLES_REQUIRING_MFA else ""
                printed.append((role.label if role else "Platform operator", email, password, totp))
        return printed

    def _totp(self, user: Any) -> str:
        """Pre-enrol TOTP so the demo needs no phone; the secret goes to an authenticator."""
        Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
        secret = generate_totp_secret()
        TOTP.activate(user, secret)
        return secret

    def _whatsapp(self, actor: Actor, agency: Agency) -> None:
        with agency_scope(agency):
            if PhoneNumber.objects.filter(phone_number_id=DEMO_PHONE_NUMBER_ID).exists():
                return
        waba = services.connect_waba(
            actor=actor,
            agency=agency,
            waba_id=DEMO_WABA_ID,
            name="Demo County Services",
            access_token=DEMO_ACCESS_TOKEN,
            business_id="5550001",
            business_name="Demo County",
        )
        services.connect_phone_number(
            actor=actor,
            agency=agency,
            waba=waba,
            phone_number_id=DEMO_PHONE_NUMBER_ID,
            display_phone_number=DEMO_DISPLAY_NUMBER,
            verified_name="Demo County Services",
        )

    def _inbox(self, agency: Agency) -> None:
        """A team on the demo number with the agent and the supervisor in it (the agent
        available, so the round robin hands them new conversations), labels and canned
        responses: something to do in the inbox from the first minute."""
        with agency_scope(agency):
            if Team.objects.filter(agency=agency).exists():
                return
            team = Team.objects.create(agency=agency, name="Front desk", auto_assign=True)
            for number in PhoneNumber.objects.filter(agency=agency):
                TeamPhoneNumber.objects.create(agency=agency, team=team, phone_number=number)
            for role in (Role.AGENT, Role.SUPERVISOR):
                user = User.objects.get(username=f"{role.value}@{DEMO_DOMAIN}")
                TeamMember.objects.create(agency=agency, team=team, user=user)
                AgentStatus.objects.update_or_create(
                    agency=agency,
                    user=user,
                    defaults={"availability": AgentStatus.Availability.AVAILABLE},
                )
            for name in ("Urgent", "Permits", "Benefits", "Complaint"):
                Label.objects.create(agency=agency, name=name)
            for shortcut, title, body in DEMO_CANNED_RESPONSES:
                CannedResponse.objects.create(
                    agency=agency, shortcut=shortcut, title=title, body=body
                )

    def _records(self, agency: Agency, actor: Actor) -> None:
        """The records officer's side: a WORM archive of a few conversations, then a file
        plan with GRS citations, an open legal hold and an eligibility report (after the
        archive, so the old conversation due for destruction is not locked there), a
        public-records request with its review set, and the sensitive-data policy's
        automatic reply switched on."""
        with agency_scope(agency):
            seed_demo_archive(agency)
            seed_demo_retention(agency)
        seed_demo_records_request(agency, actor)
        dlp_services.update_policy(agency=agency, actor=actor, auto_reply_enabled=True)

    def _print_api_key(self, actor: Actor, agency: Agency) -> None:
        """A test key (its sends go to the simulator only) to try the REST API at once."""
        scopes = [Scope.MESSAGES_SEND, Scope.MESSAGES_READ, Scope.CONTACTS_READ]
        web = f"http://127.0.0.1:{os.environ.get('WEB_PORT', '8000')}"
        _, raw_key = services.create_api_credential(
            actor=actor,
            agency=agency,
            created_by=None,
            name="Demo test key",
            scopes=scopes,
            kind=ApiCredential.Kind.TEST,
        )
        self.stdout.write(
            f"  {'API key (test)':<18} {raw_key}\n"
            f"  {'':<18} scopes: {' '.join(scopes)}; try: curl -H 'Authorization: Bearer "
            f"{raw_key}' {web}/api/v1/agency  (docs: {web}/api/docs/)\n"
        )

    def _print_credentials(self, rows: list[tuple[str, str, str, str]]) -> None:
        self.stdout.write(self.style.SUCCESS("\nDemo County is ready. Credentials (shown once):\n"))
        for role, email, password, totp in rows:
            line = f"  {role:<18} {email:<34} password: {password}"
            if totp:
                line += f"\n  {'':<18} TOTP secret: {totp}  (current code: make totp EMAIL={email})"
            self.stdout.write(line)
        self.stdout.write("")
