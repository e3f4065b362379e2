"""gunicorn's access log without secrets: ``--logger-class bsp.gunicorn.RedactingLogger``.

The default access-log line quotes the request line, query string included, and Meta's
verification handshake puts our ``hub.verify_token`` there. Values of query parameters
that name a token, secret, key, password, signature or code are replaced by ``[redacted]``
(in the request line, the query string and the referrer), and so are credential headers,
whatever ``--access-logformat`` asks for."""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger
from uvicorn_worker import UvicornWorker

REDACTED = "[redacted]"
_SENSITIVE_PARAM = re.compile(
    r"(?P<name>(?:^|(?<=[?&;]))[^=&;\s]*(?:token|secret|passw|key|signature|code)[^=&;\s]*=)"
    r"(?P<value>[^&;\s#]*)",
    re.IGNORECASE,
)
_HEADERS = ("authorization", "cookie", "x-hub-signature-256", "x-api-key")


def redact_query(text: str | None) -> str | None:
    """``a=1&hub.verify_token=s3cret`` → ``a=1&hub.verify_token=[redacted]`` (also within a
    whole request line or URL)."""
    if not text:
        return text
    return _SENSITIVE_PARAM.sub(lambda m: m.group("name") + REDACTED, text)


class RedactingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "q", "f", "{query_string}e", "{raw_uri}e", "{http_referer}e"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_query(atoms[key])
        for header in _HEADERS:
            for key in (f"{{{header}}}i", f"{{http_{header.replace('-', '_')}}}e"):
                if key in atoms:
                    atoms[key] = REDACTED
        return atoms


class AsgiWorker(UvicornWorker):
    """uvicorn worker whose graceful shutdown cancels what still runs after 5 s: open
    live-update streams end (browsers reconnect to the next worker and resume from
    Last-Event-ID) instead of holding the worker until gunicorn kills it at 30 s."""

    CONFIG_KWARGS = {**UvicornWorker.CONFIG_KWARGS, "timeout_graceful_shutdown": 5}
