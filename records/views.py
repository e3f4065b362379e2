"""The records signing keys, published for anyone who checks a checkpoint or an export."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from records.signing import note_verifier_key, public_keys


@require_GET
def signing_keys(request: HttpRequest) -> JsonResponse:
    """The current key first, then retired ones (old checkpoints stay verifiable)."""
    keys = [
        {
            "key_id": key.key_id,
            "algorithm": "Ed25519",
            "current": key.current,
            "public_key_pem": key.pem,
            "note_verifier_key": note_verifier_key(key),
        }
        for key in public_keys()
    ]
    response = JsonResponse({"keys": keys})
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response
