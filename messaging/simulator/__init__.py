"""A local, faithful stand-in for Meta's WhatsApp Cloud API (see ../shared/cloud-api.md).

Run it alone with ``python -m messaging.simulator --port 8025``, or build the ASGI app with
``create_app(config)``. Graph paths behave like Meta's; ``/_sim/...`` is the control API.
"""

from __future__ import annotations

from messaging.simulator.app import create_app
from messaging.simulator.config import SimConfig, load_config

__all__ = ["SimConfig", "create_app", "load_config"]
