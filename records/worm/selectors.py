"""Reading the WORM archive's tables: an agency's policy, what is due, what is archived."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef, QuerySet
from django.db.models.functions import Coalesce, Greatest

from messaging.models import Conversation
from records.archive import COMPLIANCE, LOCK_MODES
from records.worm.models import ArchivedObject, ArchivePolicy, ArchiveRefresh

# The defaults when an agency has no policy of its own (settings, documented in the README).
DEFAULT_MODE = COMPLIANCE
DEFAULT_ACTIVE_DAYS = 30
DEFAULT_MINIMUM_RETENTION_DAYS = 3 * 365 + 1  # GRS 6.1 item 012's 3 years, the shortest


@dataclass(frozen=True)
class Policy:
    mode: str
    active_days: int
    minimum_retention_days: int
    own: bool  # the agency's own row (False: the platform's defaults)


def default_policy() -> Policy:
    mode = str(getattr(settings, "RECORDS_WORM_DEFAULT_MODE", "") or DEFAULT_MODE).lower()
    if mode not in LOCK_MODES:
        mode = DEFAULT_MODE
    return Policy(
        mode=mode,
        active_days=int(getattr(settings, "RECORDS_WORM_ACTIVE_DAYS", 0) or DEFAULT_ACTIVE_DAYS),
        minimum_retention_days=int(
            getattr(settings, "RECORDS_WORM_MINIMUM_RETENTION_DAYS", 0)
            or DEFAULT_MINIMUM_RETENTION_DAYS
        ),
        own=False,
    )


def policy(agency_id: int) -> Policy:
    """The agency's archive policy (call inside its scope), or the platform's defaults."""
    row = ArchivePolicy.objects.filter(agency_id=agency_id).first()
    if row is None:
        return default_policy()
    return Policy(row.mode, row.active_days, row.minimum_retention_days, own=True)


def last_activity() -> Greatest:
    """A conversation's last activity: its last message, its resolution, or its creation."""
    return Greatest(
        "created_at",
        Coalesce("last_message_at", "created_at"),
        Coalesce("resolved_at", "created_at"),
    )


def due_conversations(agency_id: int, now: datetime) -> QuerySet[Conversation]:
    """The agency's conversations past their active period that need a (new) version: never
    archived, or changed since (``ArchiveRefresh``) and idle again. Ids in order."""
    cutoff = now - timedelta(days=policy(agency_id).active_days)
    archived = ArchivedObject.objects.filter(
        conversation_id=OuterRef("pk"), kind=ArchivedObject.Kind.CONVERSATION
    )
    changed = ArchiveRefresh.objects.filter(conversation_id=OuterRef("pk"))
    return (
        Conversation.objects.filter(agency_id=agency_id)
        .alias(activity=last_activity())
        .filter(activity__lte=cutoff)
        .filter(~Exists(archived) | Exists(changed))
        .order_by("pk")
    )


def objects(agency_id: int, conversation_id: int | None = None) -> QuerySet[ArchivedObject]:
    """The agency's archived object versions (of one conversation), newest first per key."""
    rows = ArchivedObject.objects.filter(agency_id=agency_id)
    if conversation_id is not None:
        rows = rows.filter(conversation_id=conversation_id)
    return rows.order_by("conversation_id", "kind", "key", F("archived_at").desc(), "-id")


def live_objects(conversation_id: int) -> QuerySet[ArchivedObject]:
    """The conversation's object versions still in the store (not destroyed)."""
    return ArchivedObject.objects.filter(
        conversation_id=conversation_id, destroyed_at__isnull=True
    ).order_by("id")


def archived_conversation_ids(agency_id: int) -> list[int]:
    return sorted(
        set(
            ArchivedObject.objects.filter(agency_id=agency_id, destroyed_at__isnull=True)
            .order_by()
            .values_list("conversation_id", flat=True)
            .distinct()
        )
    )
