"""Citizens' consent: append-only opt-in/opt-out history per contact, topic and agency
(``services.record_consent`` is the one writer; the send policy reads the newest row).

Also a Django app (label ``consent``): its topics and CSV imports (``models``)."""

from __future__ import annotations

from typing import Any

__all__ = ["record_consent"]


def __getattr__(name: str) -> Any:
    # Lazy: the package is an installed app, imported before the models are ready.
    if name == "record_consent":
        from messaging.consent.services import record_consent

        return record_consent
    raise AttributeError(name)
