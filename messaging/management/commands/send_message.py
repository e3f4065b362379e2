"""Send a message as an operator, through the same path and rules as everyone else."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from messaging import services
from messaging.policy import SendRefused
from messaging.whatsapp import builders
from messaging.whatsapp.errors import InvalidMessageError
from tenants.models import Agency, PhoneNumber
from tenants.scoping import agency_scope


class Command(BaseCommand):
    help = "Queue a text or template message for a citizen (Meta's rules apply)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--agency", required=True, metavar="SLUG")
        parser.add_argument("--to", required=True, help="the citizen's number, with country code")
        content = parser.add_mutually_exclusive_group(required=True)
        content.add_argument("--text")
        content.add_argument("--template", metavar="NAME")
        parser.add_argument("--language", default="en_US")
        parser.add_argument(
            "--param",
            action="append",
            default=[],
            help="a body parameter of the template, in order (repeatable)",
        )
        parser.add_argument("--phone-number-id", help="send from this number (default: first)")
        parser.add_argument("--idempotency-key")

    def handle(self, *args: Any, **options: Any) -> None:
        agency = Agency.objects.filter(slug=options["agency"]).first()
        if agency is None:
            raise CommandError(f"No agency with slug {options['agency']!r}.")
        try:
            message = self._message(options)
        except InvalidMessageError as exc:
            raise CommandError(f"Invalid message: {exc}") from exc
        with agency_scope(agency):
            number = None
            if options["phone_number_id"]:
                number = PhoneNumber.objects.filter(
                    phone_number_id=options["phone_number_id"]
                ).first()
                if number is None:
                    raise CommandError("That phone number is not connected to this agency.")
            try:
                row = services.send_message(
                    agency=agency,
                    sender=services.Sender.system("manage.py send_message"),
                    to=options["to"],
                    message=message,
                    phone_number=number,
                    idempotency_key=options["idempotency_key"],
                )
            except SendRefused as refusal:
                raise CommandError(f"Refused ({refusal.rule}): {refusal.message}") from refusal
        self.stdout.write(f"Queued message {row.pk} to {row.contact.wa_id} ({row.type}).")

    def _message(self, options: dict[str, Any]) -> builders.OutboundMessage:
        if options["text"] is not None:
            return builders.Text(options["text"])
        params = [builders.TextParam(value) for value in options["param"]]
        return builders.Template(options["template"], options["language"], body=params)
