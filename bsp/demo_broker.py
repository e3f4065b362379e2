"""The demo's server-less Celery broker: kombu's filesystem transport, with atomic writes.

kombu's own transport creates a message file in the queue folder and then writes it, while a
consumer takes files from that folder by moving them: a consumer can take a file between
its creation and its write, read nothing, and its worker stops ("Unrecoverable error:
JSONDecodeError"; the demo's honcho then stops every process). Here a message is written in
full to a staging folder on the same file system and renamed into the queue folder, which is
atomic: a consumer sees a whole message or none.

Used only with ``CELERY_BROKER_URL=filesystem://`` (bsp/settings/base.py); production uses
Redis.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.transport import filesystem
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    # kombu-stubs type the two parents differently; this is the filesystem one.
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        staging = os.path.join(self.transport_options["staging_folder"], name)
        with open(staging, "wb") as f:
            f.write(dumps(payload).encode())
        os.replace(staging, os.path.join(self.data_folder_out, name))


class Transport(filesystem.Transport):
    Channel = Channel
