"""The demo's archive: seeded on the local disk, verifiable, idempotent."""

from __future__ import annotations

from records.worm import demo
from records.worm.verification import verify_archive
from tests.factories import InboundMessageFactory


def test_seeding_archives_resolved_conversations_first_and_again_writes_nothing(
    conversation, agency_a, settings
):
    settings.RECORDS_WORM_BACKEND = "local"
    open_one = InboundMessageFactory(agency=agency_a).conversation

    rows = demo.seed(agency_a, conversations=1)
    assert [row.conversation_id for row in rows] == [conversation.pk]  # resolved first

    again = demo.seed(agency_a)
    assert {row.conversation_id for row in again} == {conversation.pk, open_one.pk}
    assert again[0].pk == rows[0].pk  # unchanged: the same version
    assert verify_archive(agency_a.pk) == []


def test_seeding_leaves_conversations_due_for_destruction_to_the_disposition_demo(
    conversation, agency_a, settings, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone

    from records.worm import services

    settings.RECORDS_WORM_BACKEND = "local"
    monkeypatch.setattr(
        services, "retention_floor", lambda conversation_id: timezone.now() - timedelta(days=1)
    )

    assert demo.seed(agency_a) == []
