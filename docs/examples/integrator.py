"""An integrator's first script: send a template to a citizen, then receive its delivery
statuses by event webhook. Standard library only (Python 3.11+); copy and adapt it.

    CIVIC_RELAY_URL=https://relay.example.gov CIVIC_RELAY_KEY=cr_... \\
    CIVIC_RELAY_WEBHOOK_SECRET=whsec_... python integrator.py +15551230000

It asks for an OAuth token with the key (client credentials), sends the agency's approved
``appointment_reminder`` template with ``Idempotency-Key`` (a retry never sends twice), then
listens on port 8088 for the ``message.status`` events of that message (subscribe
``https://<this host>:8088/`` to ``message.status`` on the Webhooks page first), verifying
each delivery's signature over the raw body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

TOLERANCE_SECONDS = 300  # refuse deliveries signed more than 5 minutes ago (replays)


def _post(url: str, data: bytes, headers: dict[str, str]) -> Any:
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"not an HTTP URL: {url}")
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 (checked)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (checked)
        return json.load(response)


def token(base_url: str, key: str, scope: str) -> str:
    """An access token for ``key`` (OAuth 2.0 client credentials, RFC 6749 §4.4)."""
    client_id = "_".join(key.split("_")[:2])  # cr_<prefix>
    basic = base64.b64encode(f"{client_id}:{key}".encode()).decode()
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "scope": scope})
    url = f"{base_url}/api/v1/oauth/token/"
    answer = _post(url, form.encode(), {"Authorization": f"Basic {basic}"})
    return str(answer["access_token"])


def send_template(base_url: str, access_token: str, to: str, name: str) -> dict[str, Any]:
    """Queue the template for ``to``; the answer (202) is the message, status ``queued``.
    Refusals are problem documents: 422 with ``code`` ``no_opt_in``, ``opted_out``..."""
    body = {
        "to": to,
        "type": "template",
        "template": {
            "name": name,
            "language": {"code": "en_US"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "Tuesday 10:00"}]}
            ],
        },
    }
    headers = {
        "Authorization": f"Bearer {access_token}",
        "Content-Type": "application/json",
        "Idempotency-Key": str(uuid.uuid4()),  # keep it to retry this very send
    }
    return dict(_post(f"{base_url}/api/v1/messages", json.dumps(body).encode(), headers))


def verify(secret: str, body: bytes, header: str, now: float | None = None) -> None:
    """Raise ValueError unless ``header`` (Civic-Relay-Signature) signs ``body`` recently."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    signed_at = int(parts.get("t", "0"))
    if abs((time.time() if now is None else now) - signed_at) > TOLERANCE_SECONDS:
        raise ValueError("outside the replay window")
    mac = hmac.new(secret.encode(), f"{signed_at}.".encode() + body, hashlib.sha256)
    if not hmac.compare_digest(mac.hexdigest(), parts.get("v1", "")):
        raise ValueError("bad signature")


def receiver(message_id: int, secret: str) -> type[BaseHTTPRequestHandler]:
    """A handler printing the message's status changes; it answers 2xx at once."""

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                verify(secret, body, self.headers.get("Civic-Relay-Signature", ""))
            except ValueError:
                self.send_response(400)
                self.end_headers()
                return
            self.send_response(204)
            self.end_headers()
            event = json.loads(body)
            subject, payload = event["data"]["subject"], event["data"]["payload"]
            if event["type"] == "message.status" and subject.get("message") == message_id:
                print(f"{event['created_at']} message {message_id}: {payload['status']}")

    return Receiver


if __name__ == "__main__":
    base = os.environ["CIVIC_RELAY_URL"].rstrip("/")
    access = token(base, os.environ["CIVIC_RELAY_KEY"], "messages:send messages:read")
    message = send_template(base, access, sys.argv[1], "appointment_reminder")
    print(f"queued message {message['id']} to {message['to']}")
    handler = receiver(message["id"], os.environ["CIVIC_RELAY_WEBHOOK_SECRET"])
    HTTPServer(("", 8088), handler).serve_forever()
