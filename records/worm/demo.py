"""Demo data for the WORM archive (``seed_demo`` calls ``seed``): the agency's policy and a
few archived conversations on the local disk, so the archive page and ``records_verify``
have something to show. Idempotent: seeding again writes nothing new."""

from __future__ import annotations

import logging

from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from messaging.models import Conversation
from records.audit import Actor
from records.worm import services
from records.worm.models import ArchivedObject
from tenants.models import Agency
from tenants.scoping import agency_scope

logger = logging.getLogger(__name__)

DEMO_ACTOR = Actor.system("demo")
CONVERSATIONS = 5


def seed(agency: Agency, *, conversations: int = CONVERSATIONS) -> list[ArchivedObject]:
    """Set the agency's policy (compliance, 30 days active, 3 years' minimum) and archive up
    to ``conversations`` of its conversations, resolved ones first; the rows written (or
    found unchanged). Conversations the file plan already lets be destroyed are left to the
    disposition demo, and one that cannot be archived (a media file missing from the demo's
    storage) is logged and skipped."""
    services.set_policy(
        agency.pk,
        mode="compliance",
        active_days=30,
        minimum_retention_days=3 * 365 + 1,
        actor=DEMO_ACTOR,
    )
    with agency_scope(agency):
        chosen = list(
            Conversation.objects.filter(agency=agency)
            .annotate(
                resolved_first=Case(
                    When(status=Conversation.Status.RESOLVED, then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                )
            )
            .order_by("resolved_first", "pk")
            .values_list("pk", flat=True)[:conversations]
        )
    rows: list[ArchivedObject] = []
    now = timezone.now()
    for conversation_id in chosen:
        with agency_scope(agency):
            floor = services.retention_floor(conversation_id)
        if floor is not None and floor <= now:
            continue  # due for destruction: the disposition demo's, not locked a day here
        try:
            rows.append(services.archive_conversation(conversation_id))
        except services.ArchiveError as error:
            logger.warning("demo: conversation %s not archived: %s", conversation_id, error)
    return rows
