"""Recompute every audit chain: ``OK`` with the count, or the first broken event (exit 1)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from records.audit import ChainReport, chain_agency_ids, verify_chain
from tenants.models import Agency


class Command(BaseCommand):
    help = "Verify the hash chains of the audit trail (all agencies, or one with --agency)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--agency", metavar="SLUG", help="verify only this agency's chain")

    def handle(self, *args: Any, agency: str | None = None, **options: Any) -> None:
        if agency:
            found = Agency.objects.filter(slug=agency).first()
            if found is None:
                raise CommandError(f"No agency with slug {agency!r}.")
            chains: list[int | None] = [found.pk]
        else:
            chains = chain_agency_ids()
        names = dict(Agency.objects.values_list("pk", "slug"))
        broken = 0
        for agency_id in chains:
            report = verify_chain(agency_id)
            label = names.get(agency_id, "platform") if agency_id else "platform"
            self.stdout.write(self._describe(label, report))
            broken += not report.ok
        if broken:
            raise CommandError(f"{broken} audit chain(s) broken.", returncode=1)

    def _describe(self, label: str, report: ChainReport) -> str:
        if report.ok:
            return self.style.SUCCESS(f"OK {label}: {report.count} events")
        event = report.broken_event
        where = (
            f" at event id={event.pk} sequence={event.sequence} action={event.action}"
            if event
            else ""
        )
        return self.style.ERROR(
            f"BROKEN {label}: {report.problem}{where} (after {report.count} intact events)"
        )
