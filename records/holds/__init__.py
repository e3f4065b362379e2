"""Legal holds: records matching an open hold are kept, whatever their schedule says."""

from __future__ import annotations

from collections.abc import Sequence


class HeldRecordError(Exception):
    """A held record was asked to be deleted (or disposed of). The message names the
    record and the matter(s) holding it, in words a records officer or an admin can act
    on; ``matters`` lists the matter ids."""

    code = "record_held"
    http_status = 409  # the API's answer: the request conflicts with the record's state

    def __init__(self, message: str, *, matters: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.matters = tuple(matters)
        self.details = {"matters": list(self.matters)}
