"""The one refusal of the foia part."""

from __future__ import annotations

from tenants.services import ApplicationError


class RequestError(ApplicationError):
    """A change refused, in words for the records officer; ``field`` names the form field."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
