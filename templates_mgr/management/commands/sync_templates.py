"""Pull every WABA's templates (or one WABA's) from Meta's list endpoint into MessageTemplate."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from templates_mgr import services
from tenants.models import WhatsAppBusinessAccount
from tenants.scoping import agency_scope, system_scope


class Command(BaseCommand):
    help = "Reconcile message templates with what Meta lists (all pages), for every WABA."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--waba", metavar="WABA_ID", help="only this WABA (Meta's id)")
        parser.add_argument("--page-size", type=int, default=100)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["waba"]:
            with system_scope():
                waba = WhatsAppBusinessAccount.objects.filter(waba_id=options["waba"]).first()
            if waba is None:
                raise CommandError(f"No WABA with id {options['waba']!r}.")
            with agency_scope(waba.agency_id):
                report = services.sync_templates(waba.pk, page_size=options["page_size"])
        else:
            report = services.sync_all_templates(page_size=options["page_size"])
        self.stdout.write(
            f"{report.wabas} WABA(s), {report.listed} listed: {report.created} added, "
            f"{report.updated} updated ({report.status_changed} status changes), "
            f"{report.deleted} deleted"
        )
        if report.failed_wabas:
            raise CommandError(
                f"Could not list templates of WABA(s) {', '.join(report.failed_wabas)}."
            )
