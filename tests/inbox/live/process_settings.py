"""The test settings for the web processes these tests start: static files served from
the apps' folders (as the demo does, so live.js loads without collectstatic), and a
stream that re-checks its session every second instead of every 30."""

from bsp.settings.test import *  # noqa: F403

WHITENOISE_USE_FINDERS = True
LIVE_RECHECK_SECONDS = 1
