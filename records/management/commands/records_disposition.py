"""Disposition for operators and scripts: compute eligibility reports now (what the beat
does daily), list them, or execute an approved one (what the task does after approval)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from records.retention import disposition, services
from records.retention.models import DispositionReport
from tenants.models import Agency
from tenants.scoping import agency_scope


class Command(BaseCommand):
    help = (
        "Records disposition: `eligibility [--agency SLUG]` computes eligibility reports, "
        "`list --agency SLUG` lists an agency's reports, `execute REPORT_ID` executes an "
        "approved report (held or no longer due records are kept)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["eligibility", "list", "execute"])
        parser.add_argument("report_id", nargs="?", type=int, help="for execute")
        parser.add_argument("--agency", metavar="SLUG")

    def handle(self, *args: Any, **options: Any) -> None:
        action, slug = options["action"], options.get("agency")
        agency = None
        if slug:
            agency = Agency.objects.filter(slug=slug).first()
            if agency is None:
                raise CommandError(f"No agency {slug!r}.")
        if action == "eligibility":
            if agency is None:
                self.stdout.write(f"{services.compute_all()} eligibility report(s) computed")
                return
            report = services.compute_eligibility(agency.pk)
            self.stdout.write(
                f"report {report.pk} computed" if report else "nothing is due for disposition"
            )
        elif action == "list":
            if agency is None:
                raise CommandError("list needs --agency SLUG")
            with agency_scope(agency):
                for report in DispositionReport.objects.filter(agency=agency):
                    self.stdout.write(
                        f"{report.pk}\t{report.computed_at:%Y-%m-%d}\t{report.status}\t"
                        f"{report.items.count()} records"
                    )
        else:
            if options.get("report_id") is None:
                raise CommandError("execute needs the report's id")
            certificate = disposition.execute_report(options["report_id"])
            self.stdout.write(
                f"certificate of destruction #{certificate.number} ({certificate.leaf_sha256})"
                if certificate
                else "nothing destroyed (not approved, or every record kept)"
            )
