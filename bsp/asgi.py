"""The web process's application: ASGI, served by gunicorn with uvicorn workers.

    gunicorn bsp.asgi --worker-class uvicorn_worker.UvicornWorker \\
        --logger-class bsp.gunicorn.RedactingLogger

ASGI because the live inbox streams Server-Sent Events from an async view
(``inbox/live/``): one open stream costs a coroutine, not a thread. Django runs every
synchronous view and middleware of a request in a thread of that request's own
(``ThreadSensitiveContext``), so sync views still run concurrently.

Access log: uvicorn writes its own lines (``uvicorn.access``) to the handlers gunicorn's
logger class set up, without going through ``RedactingLogger.atoms``; the filter below
gives those lines the same redaction of secret query parameters.
"""

import logging
import os

from django.core.asgi import get_asgi_application

from bsp.gunicorn import redact_query
from bsp.startup import refuse_to_serve_when_misconfigured


class RedactedAccessLog(logging.Filter):
    """``GET /webhooks/whatsapp?hub.verify_token=s3cret`` → ``…hub.verify_token=[redacted]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_query(record.getMessage()) or ""
        record.args = ()
        return True


logging.getLogger("uvicorn.access").addFilter(RedactedAccessLog())

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bsp.settings.production")
application = get_asgi_application()
# Refuse to serve a platform that would answer 500 on every page (see bsp/startup.py).
refuse_to_serve_when_misconfigured()
