"""Settings of the send-API benchmark (bench/api_send.py): the benchmark settings with a
URLconf that adds a bare authenticated DRF view (tests.bench.api_send_urls)."""

from __future__ import annotations

from bsp.settings.bench import *  # noqa: F403

ROOT_URLCONF = "tests.bench.api_send_urls"
