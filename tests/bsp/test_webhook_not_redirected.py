"""Meta does not follow redirects: under production settings a plain-HTTP request to the
webhook reaches the view (and is judged on its signature), while pages still redirect."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.bsp.test_settings import GOOD

_PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="localhost")
print(json.dumps({
    "post": client.post("/webhooks/whatsapp", b"{}", content_type="application/json").status_code,
    "get": client.get("/webhooks/whatsapp", {"hub.mode": "subscribe"}).status_code,
    "page": client.get("/accounts/login/").status_code,
}))
"""


def _statuses_under_production_settings() -> dict[str, int]:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    env.update(GOOD, DJANGO_SETTINGS_MODULE="bsp.settings.production")
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_plain_http_webhook_requests_reach_the_view_and_pages_still_redirect() -> None:
    statuses = _statuses_under_production_settings()
    assert statuses == {"post": 401, "get": 403, "page": 301}
