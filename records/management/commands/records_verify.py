"""Verify agencies' records against their signed checkpoints; the first mismatch exits 1."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from records.audit import verify_chain
from records.verification import RecordsReport, verify_records
from records.worm.verification import verify_archive
from tenants.models import Agency


class Command(BaseCommand):
    help = (
        "Verify audit chains, signed checkpoints, message leaves, the archive store and the "
        "WORM archive's objects (all agencies, or one with --agency)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--agency", metavar="SLUG", help="verify only this agency")
        parser.add_argument(
            "--skip-media-files",
            action="store_true",
            help=(
                "check media rows against their leaves and archived objects against the "
                "store's listing and locks, but do not re-read the files"
            ),
        )

    def handle(
        self,
        *args: Any,
        agency: str | None = None,
        skip_media_files: bool = False,
        **options: Any,
    ) -> None:
        agencies = Agency.objects.order_by("pk")
        if agency:
            agencies = agencies.filter(slug=agency)
            if not agencies.exists():
                raise CommandError(f"No agency with slug {agency!r}.")
        broken = 0
        if not agency:  # the platform's own chain has no checkpoints, only its links
            platform = verify_chain(None)
            if platform.ok:
                self.stdout.write(self.style.SUCCESS(f"OK platform: {platform.count} events"))
            else:
                self.stdout.write(self.style.ERROR(f"BROKEN platform: {platform.problem}"))
                broken += 1
        for slug, agency_id in agencies.values_list("slug", "pk"):
            report = verify_records(agency_id, files=not skip_media_files)
            if report.ok:  # then the WORM archive: every object version against its row
                archive_problems = verify_archive(agency_id, read=not skip_media_files)
                if archive_problems:
                    report = replace(report, problem=f"WORM archive: {archive_problems[0]}")
            self.stdout.write(self._describe(slug, report))
            broken += not report.ok
        if broken:
            raise CommandError(f"{broken} verification(s) failed.", returncode=1)

    def _describe(self, slug: str, report: RecordsReport) -> str:
        if not report.ok:
            return self.style.ERROR(f"BROKEN {slug}: {report.problem}")
        return self.style.SUCCESS(
            f"OK {slug}: {report.audit_events} audit events, {report.checkpoints} signed "
            f"checkpoints, {report.leaves} messages and {report.media_files} media files "
            f"checkpointed, {report.pending_messages} message"
            f"{'' if report.pending_messages == 1 else 's'} waiting for the next checkpoint"
        )
