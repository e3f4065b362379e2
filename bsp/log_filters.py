"""Log filters of the console handler (``LOGGING`` in settings)."""

from __future__ import annotations

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """A 4xx answer is the client's mistake or a refusal, not a failure of ours.

    Django logs a refused permission (403) with the exception's traceback; in the log an
    expected refusal then looks like a crash. The line itself stays, without the traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
