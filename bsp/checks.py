"""System checks of the platform's own settings (run by ``check``, ``migrate``, ``runserver``).

``bsp.settings.production`` refuses the same problems when the settings load; these checks
catch them under every settings module, e.g. a mistyped key given to the demo.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

from bsp.startup import fernet_key_problem


@register(Tags.security)
def check_field_encryption_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    problem = fernet_key_problem(settings.FIELD_ENCRYPTION_KEY or "")
    return [Error(problem, id="bsp.E001")] if problem else []
