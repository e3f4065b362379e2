"""Shared by the API tests: keys with scopes, and OAuth tokens for them."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

from records.audit import Actor
from tenants import services

ACTOR = Actor.system("test")
FORM = "application/x-www-form-urlencoded"


def make_key(agency, *scopes: str, kind: str = "live") -> tuple:
    return services.create_api_credential(
        actor=ACTOR, agency=agency, created_by=None, name="crm", scopes=scopes, kind=kind
    )


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def basic(client_id: str, secret: str) -> dict[str, str]:
    pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {pair}"}


def get_token(client, credential, raw_key: str, scope: str | None = None):
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    return client.post(
        "/api/v1/oauth/token/",
        urlencode(data),
        content_type=FORM,
        **basic(f"cr_{credential.prefix}", raw_key),
    )
