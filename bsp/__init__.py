# Database errors quote the rows they refused: keep that text out of every log line of
# every process (web, workers, beat, commands), whichever handlers they configure.
from . import log_redaction

log_redaction.install()

from .celery import app as celery_app  # noqa: E402

__all__ = ["celery_app"]
