"""Inbound media: downloaded from Meta by a task (``messaging.download_inbound_media``),
checked against the type's size/MIME limits, stored with its SHA-256.

Contract: ``schedule_download(media_object)`` (called by ``inbound`` after commit);
``download(media_pk)`` returns an outcome string or raises ``RetryDownload``."""

from __future__ import annotations

from messaging.models import MediaObject

MAX_ATTEMPTS = 6


class RetryDownload(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def schedule_download(media_object: MediaObject) -> None:
    raise NotImplementedError  # being written (issue 5)


def download(media_pk: int) -> str:
    raise NotImplementedError  # being written (issue 5)
