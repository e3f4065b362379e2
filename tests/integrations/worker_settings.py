"""The test settings for real worker processes in these tests (and the benchmark): the
local receiver is plain http on 127.0.0.1, and retries come fast."""

from bsp.settings.test import *  # noqa: F403

WEBHOOK_ALLOW_HTTP = True
WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
WEBHOOK_RETRY_BASE_SECONDS = 0.2
WEBHOOK_RETRY_MAX_SECONDS = 1.0
