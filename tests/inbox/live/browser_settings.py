"""The test settings, with static files served from the apps' folders (as the demo does):
the browser test's gunicorn serves live.js without a collectstatic step."""

from bsp.settings.test import *  # noqa: F403

WHITENOISE_USE_FINDERS = True
