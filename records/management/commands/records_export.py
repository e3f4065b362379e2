"""``manage.py records_export --agency SLUG --format FMT --out PATH [filters]``: build a
signed export package (the service the UI's export job calls) and print its path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from records.audit import Actor
from records.exports.services import FORMATS, ExportError, build_package
from records.selection import Selection
from tenants.models import Agency
from tenants.scoping import system_scope


def _moment(value: str, name: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--{name}: {value!r} is not a date (YYYY-MM-DD) or ISO 8601 time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class Command(BaseCommand):
    help = "Build a signed evidence package of an agency's messages and print its path."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--agency", required=True, help="the agency's slug")
        parser.add_argument("--format", required=True, choices=FORMATS)
        parser.add_argument("--out", required=True, help="directory the package is written in")
        parser.add_argument("--contact", default="", help="the citizen's WhatsApp id or number")
        parser.add_argument("--conversation", type=int, default=None)
        parser.add_argument("--since", default="", help="from this date/time (UTC unless given)")
        parser.add_argument("--until", default="", help="before this date/time (exclusive)")
        parser.add_argument("--query", default="", help="full text (websearch syntax)")
        parser.add_argument("--bates-prefix", default=None)
        parser.add_argument("--bates-start", type=int, default=1)
        parser.add_argument("--title", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        with system_scope():
            agency = Agency.objects.filter(slug=options["agency"]).first()
        if agency is None:
            raise CommandError(f"no agency with slug {options['agency']!r}")
        selection = Selection(
            contact_wa_id=options["contact"],
            conversation_id=options["conversation"],
            since=_moment(options["since"], "since") if options["since"] else None,
            until=_moment(options["until"], "until") if options["until"] else None,
            query=options["query"],
        )
        try:
            path = build_package(
                agency.pk,
                selection,
                options["format"],
                Path(options["out"]),
                bates_prefix=options["bates_prefix"],
                bates_start=options["bates_start"],
                title=options["title"],
                actor=Actor.system("manage.py records_export"),
            )
        except ExportError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(str(path))
