"""Legal holds mirrored on the archive: S3 legal hold ON on every version of a conversation
while any open hold covers it, OFF once the last one is released — through the stream."""

from __future__ import annotations

import pytest

from bsp.events.dispatch import dispatch_agency
from records.archive import worm_store
from records.holds import HeldRecordError
from records.holds.services import place_hold, release_hold
from records.selection import Selection
from records.worm import services
from records.worm.models import ArchivedObject
from tenants.scoping import agency_scope
from tests.records.worm.conftest import ACTOR, another_message


@pytest.fixture
def mirrored(worm_consumer_registered, eager, django_capture_on_commit_callbacks):
    """Deliver the stream as the dispatcher does, running the tasks the consumer queues."""

    def deliver(agency_id: int) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            dispatch_agency(agency_id)

    return deliver


def _hold(conversation, matter: str):
    return place_hold(
        conversation.agency_id,
        matter_id=matter,
        reason=f"Litigation {matter}",
        owner_id=None,
        selection=Selection(conversation_id=conversation.pk),
        actor=ACTOR,
    )


def _release(hold) -> None:
    release_hold(hold.pk, reason="Matter closed", actor=ACTOR)


def _holds(conversation) -> list[bool]:
    """The legal hold of every version, in the database and in the store."""
    with agency_scope(conversation.agency_id):
        rows = list(ArchivedObject.objects.filter(conversation_id=conversation.pk).order_by("id"))
    store = worm_store()
    in_store = [store.lock(row.key, row.version_id).legal_hold for row in rows]
    assert in_store == [row.legal_hold for row in rows]
    return in_store


@pytest.fixture
def archived(conversation, backend):
    services.archive_conversation(conversation.pk)
    another_message(conversation)
    services.archive_conversation(conversation.pk)
    return conversation


def test_a_placed_hold_puts_every_version_under_legal_hold(archived, mirrored):
    _hold(archived, "2027-CV-001")

    mirrored(archived.agency_id)

    assert _holds(archived) == [True, True, True]  # two versions and the photo


def test_the_hold_stays_on_until_the_last_of_several_holds_is_released(archived, mirrored):
    first, second = _hold(archived, "2027-CV-001"), _hold(archived, "2027-CV-002")
    mirrored(archived.agency_id)

    _release(first)
    mirrored(archived.agency_id)
    assert _holds(archived) == [True, True, True]

    _release(second)
    mirrored(archived.agency_id)
    assert _holds(archived) == [False, False, False]


def test_a_version_archived_while_held_is_written_under_legal_hold(conversation, backend):
    _hold(conversation, "2027-CV-003")

    row = services.archive_conversation(conversation.pk)

    assert row.legal_hold is True
    assert worm_store().lock(row.key, row.version_id).legal_hold is True


def test_the_s3_object_carries_the_legal_hold(conversation, lock_bucket, mirrored):
    row = services.archive_conversation(conversation.pk)
    hold = _hold(conversation, "2027-CV-004")
    mirrored(conversation.agency_id)
    assert lock_bucket.head(row.key, row.version_id)["ObjectLockLegalHoldStatus"] == "ON"

    _release(hold)
    mirrored(conversation.agency_id)
    assert lock_bucket.head(row.key, row.version_id)["ObjectLockLegalHoldStatus"] == "OFF"


def test_destruction_is_refused_while_held(archived, mirrored):
    _hold(archived, "2027-CV-005")
    mirrored(archived.agency_id)

    with pytest.raises(HeldRecordError, match="under a legal hold"):
        services.destroy_archived(archived.pk)

    with agency_scope(archived.agency_id):
        assert not ArchivedObject.objects.filter(destroyed_at__isnull=False).exists()
    assert len(worm_store().versions(f"worm/agency-{archived.agency_id}/")) == 3


def test_another_conversations_hold_leaves_this_one_alone(archived, agency_a, mirrored):
    from tests.factories import InboundMessageFactory

    other = InboundMessageFactory(agency=agency_a).conversation
    _hold(other, "2027-CV-006")

    mirrored(archived.agency_id)

    assert _holds(archived) == [False, False, False]
