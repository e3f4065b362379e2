"""Citizens' consent: append-only opt-in/opt-out history per contact, topic and agency
(``services.record_consent`` is the one writer; the send policy reads the newest row)."""

from messaging.consent.services import record_consent

__all__ = ["record_consent"]
