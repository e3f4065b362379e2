"""Refusals (4xx) are logged as one line; failures (5xx) keep their traceback."""

from __future__ import annotations

import io
import logging
import sys

from django.conf import settings

from bsp.log_filters import ClientErrorsWithoutTraceback


def _logged(status_code: int) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ClientErrorsWithoutTraceback())
    logger = logging.getLogger(f"test.log_filters.{status_code}")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        raise PermissionError("refused")
    except PermissionError:
        logger.warning(
            "Forbidden: /members/", exc_info=sys.exc_info(), extra={"status_code": status_code}
        )
    logger.removeHandler(handler)
    return stream.getvalue()


def test_a_refused_request_is_logged_without_a_traceback():
    assert "Traceback" not in _logged(403)
    assert "Forbidden: /members/" in _logged(403)


def test_a_server_error_keeps_its_traceback():
    assert "Traceback" in _logged(500)


def test_the_console_handler_applies_the_filter():
    assert "client_errors" in settings.LOGGING["handlers"]["console"]["filters"]
