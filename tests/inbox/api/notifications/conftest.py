"""The integrator webhooks' fixtures: a real receiver, subscriptions made through their
services, and settings that let it listen on 127.0.0.1 over http."""

from tests.integrations.conftest import (  # noqa: F401 (fixtures)
    receiver,
    subscribe,
    webhook_settings,
)
