"""Operators' tool for stored webhook events.

manage.py webhook_events                  # counts by status, and rejected signatures
manage.py webhook_events --sweep          # hand back stuck events, wake a drainer (as beat does)
manage.py webhook_events --reprocess ID…  # process these now, in this process
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db.models import Count

from messaging.models import WebhookEvent
from messaging.webhooks import processing
from messaging.webhooks.receive import rejected_signature_count
from tenants.context import system_scope


class Command(BaseCommand):
    help = "Show, sweep or reprocess stored webhook events."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--sweep", action="store_true", help="hand back stuck events and wake a drainer"
        )
        parser.add_argument("--reprocess", nargs="+", type=int, metavar="ID", default=[])

    def handle(self, *args: Any, sweep: bool, reprocess: list[int], **options: Any) -> None:
        with system_scope():
            if sweep:
                waiting = processing.sweep()
                self.stdout.write(f"{waiting} event(s) waiting; a drainer was woken if any")
            for event_id in reprocess:
                outcome = processing.reprocess(event_id)
                self.stdout.write(f"event {event_id}: {outcome}")
            if not sweep and not reprocess:
                self._summary()

    def _summary(self) -> None:
        counts = dict(WebhookEvent.objects.values_list("status").annotate(n=Count("id")).order_by())
        for status, label in WebhookEvent.Status.choices:
            self.stdout.write(f"{label:<45} {counts.get(status, 0):>8}")
        self.stdout.write(
            f"{'Rejected signatures (not stored)':<45} {rejected_signature_count():>8}"
        )
