"""The WhatsApp Cloud API boundary: client, request builders, media, templates, errors.

Nothing else in the project makes HTTP calls to Meta; see ../shared/cloud-api.md.
"""

from __future__ import annotations

from messaging.whatsapp.client import (
    AsyncCloudAPIClient,
    CloudAPIClient,
    SendResult,
    Timeouts,
    close_shared_http_client,
)
from messaging.whatsapp.errors import (
    AuthError,
    CloudAPIError,
    InvalidMessageError,
    PermanentError,
    PolicyError,
    RecipientUndeliverableError,
    RetryableError,
    TemplateError,
    TransportError,
    WindowClosedError,
    classify_code,
    error_from_payload,
)
from messaging.whatsapp.media import MediaInfo, UploadedMedia
from messaging.whatsapp.templates import TemplateCreated, TemplateInfo, TemplatePage

__all__ = [
    "AsyncCloudAPIClient",
    "AuthError",
    "CloudAPIClient",
    "CloudAPIError",
    "InvalidMessageError",
    "MediaInfo",
    "PermanentError",
    "PolicyError",
    "RecipientUndeliverableError",
    "RetryableError",
    "SendResult",
    "TemplateCreated",
    "TemplateError",
    "TemplateInfo",
    "TemplatePage",
    "Timeouts",
    "TransportError",
    "UploadedMedia",
    "WindowClosedError",
    "classify_code",
    "close_shared_http_client",
    "error_from_payload",
]
