"""Django admin: deleting a held record shows why it cannot be deleted, not a 500.

``HeldRecordAdminMixin`` goes first in the bases of the ModelAdmin of a model a hold can
cover (``messaging.Message``, ``Conversation``, ``MediaObject``, ``inbox.Note``). The
admin's delete page and its "delete selected" action both ask ``get_deleted_objects``
what stops the deletion: the holds' refusals join Django's own "protected" list, so the
admin shows its standard "cannot delete" page naming the matter. The database trigger
(records migration 0012) stays the last word.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest

from records.holds import HeldRecordError
from records.holds.services import (
    ensure_conversation_deletable,
    ensure_media_deletable,
    ensure_messages_deletable,
    ensure_note_deletable,
)


def held_refusals(objs: Iterable[Any]) -> list[str]:
    """What a hold says about deleting each of ``objs`` (empty: none is held)."""
    refusals = []
    for obj in objs:
        label = obj._meta.label_lower
        try:
            if label == "messaging.message":
                ensure_messages_deletable([obj.pk])
            elif label == "messaging.conversation":
                ensure_conversation_deletable(obj.pk)
            elif label == "messaging.mediaobject":
                ensure_media_deletable(obj.pk)
            elif label == "inbox.note":
                ensure_note_deletable(obj.conversation_id, obj.pk)
        except HeldRecordError as error:
            refusals.append(str(error))
    return refusals


class HeldRecordAdminMixin:
    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(  # type: ignore[misc]
            objs, request
        )
        return deleted, counts, perms_needed, [*protected, *held_refusals(objs)]
