"""Run the Cloud API simulator with this platform's phone numbers registered in it.

The demo's way of starting the simulator: every phone number in the database is registered
with its real (decrypted) access token, and its webhooks are aimed at this platform's
``/webhooks/whatsapp``, signed with ``WHATSAPP_APP_SECRET``. To run the simulator on its
own, without Django, use ``python -m messaging.simulator``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from messaging.simulator.app import create_app
from messaging.simulator.config import SimConfig
from templates_mgr.demo import simulator_templates
from tenants.models import PhoneNumber
from tenants.scoping import system_scope

DEFAULT_SCENARIO = Path(__file__).resolve().parents[2] / "simulator/scenarios/default.yaml"


def platform_numbers(callback_url: str) -> list[dict[str, Any]]:
    """Simulator registrations for every phone number on the platform."""
    with system_scope():
        numbers = list(PhoneNumber.objects.select_related("waba"))
        return [
            {
                "id": number.phone_number_id,
                "display_phone_number": number.display_phone_number,
                "waba_id": number.waba.waba_id,
                "access_token": number.bearer_token(),
                "verified_name": number.verified_name,
                "callback_url": callback_url,
                "app_secret": number.waba.app_secret or settings.WHATSAPP_APP_SECRET,
                "verify_token": settings.WHATSAPP_VERIFY_TOKEN,
                "throughput_mps": float(number.throughput_tier),
            }
            for number in numbers
        ]


class Command(BaseCommand):
    help = "Run the Cloud API simulator with the platform's numbers registered."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8025)
        parser.add_argument("--platform-url", default="http://127.0.0.1:8000")
        parser.add_argument(
            "--scenario",
            action="append",
            default=None,
            help="citizen scenario file (default: the demo scenario)",
        )
        parser.add_argument("--no-scenario", action="store_true")

    def handle(
        self,
        *args: Any,
        port: int,
        platform_url: str,
        scenario: list[str] | None,
        no_scenario: bool,
        **options: Any,
    ) -> None:
        config = SimConfig(public_url=f"http://127.0.0.1:{port}")
        config.phone_numbers = platform_numbers(f"{platform_url.rstrip('/')}/webhooks/whatsapp")
        # The simulator keeps templates in memory: give it the platform's, as Meta has them.
        config.templates = simulator_templates()
        scenarios = [] if no_scenario else (scenario or [str(DEFAULT_SCENARIO)])
        self.stdout.write(
            f"Cloud API simulator on http://127.0.0.1:{port} with "
            f"{len(config.phone_numbers)} phone number(s); webhooks to {platform_url}"
        )
        app = create_app(config, scenarios=scenarios)
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
