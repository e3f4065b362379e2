"""Retention: extended at cutoff, never shortened — in our code, whatever the store allows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from bsp.events import types
from bsp.events.models import DomainEvent
from records.archive import LockViolation, lock_time, worm_store
from records.worm import services
from records.worm.models import ArchivedObject
from tenants.scoping import agency_scope
from tests.records.worm.conftest import another_message


def _file_plan(agency_id: int, *, retain_years: int) -> None:
    """Conversations destroyed ``retain_years`` after they are resolved (GRS 6.1 item 011)."""
    from records.retention.models import RecordCategory
    from records.retention.services import CategoryData, save_category

    data = CategoryData(
        name="Citizen conversations",
        kind=RecordCategory.Kind.CONVERSATIONS,
        authority="GRS 6.1 item 011",
        cutoff=RecordCategory.Cutoff.CONVERSATION_RESOLVED,
        action=RecordCategory.Action.DESTROY,
        retain_years=retain_years,
    )
    save_category(agency_id, data, actor=services.WORKER)


def _rows(conversation) -> list[ArchivedObject]:
    with agency_scope(conversation.agency_id):
        return list(ArchivedObject.objects.filter(conversation_id=conversation.pk).order_by("id"))


def test_extending_moves_every_version_and_media_file_later(conversation, backend):
    services.archive_conversation(conversation.pk)
    another_message(conversation)
    services.archive_conversation(conversation.pk)
    until = timezone.now() + timedelta(days=10 * 365)

    services.extend_retention(conversation.pk, until)

    rows = _rows(conversation)
    assert len(rows) == 3  # two versions of the conversation, one photo
    store = worm_store()
    for row in rows:
        assert row.retain_until == lock_time(until)
        assert store.lock(row.key, row.version_id).retain_until == lock_time(until)


def test_a_shorter_date_is_ignored(conversation, backend):
    row = services.archive_conversation(conversation.pk)
    before = row.retain_until

    services.extend_retention(conversation.pk, before - timedelta(days=30))

    (after,) = [r for r in _rows(conversation) if r.pk == row.pk]
    assert after.retain_until == before
    assert worm_store().lock(row.key, row.version_id).retain_until == before
    with agency_scope(conversation.agency_id):
        assert not DomainEvent.objects.filter(type=types.ARCHIVE_RETENTION_EXTENDED).exists()


def test_the_store_refuses_to_shorten_a_lock(conversation, backend):
    row = services.archive_conversation(conversation.pk)

    with pytest.raises(LockViolation, match="never shortened"):
        worm_store().extend(row.key, row.version_id, row.mode, row.retain_until - timedelta(days=1))


def test_the_store_refuses_to_weaken_compliance_to_governance(conversation, backend):
    row = services.archive_conversation(conversation.pk)

    with pytest.raises(LockViolation, match="never weakened"):
        worm_store().extend(
            row.key, row.version_id, "governance", row.retain_until + timedelta(days=1)
        )


def test_moto_itself_would_shorten_compliance_retention_which_is_why_our_code_refuses(
    conversation, lock_bucket
):
    """The gap the records reference warns about: a WORM claim needs a store that enforces
    Object Lock (AWS S3, MinIO); moto does not, and neither would a misconfigured store."""
    row = services.archive_conversation(conversation.pk)
    shorter = row.retain_until - timedelta(days=100)

    lock_bucket.client.put_object_retention(
        Bucket=lock_bucket.name,
        Key=row.key,
        VersionId=row.version_id,
        Retention={"Mode": "COMPLIANCE", "RetainUntilDate": shorter},
    )

    assert lock_bucket.head(row.key, row.version_id)["ObjectLockRetainUntilDate"] == shorter


def test_the_database_refuses_a_shorter_retain_until(conversation, backend):
    row = services.archive_conversation(conversation.pk)

    with agency_scope(conversation.agency_id):
        with pytest.raises(DatabaseError, match="never shortened"), transaction.atomic():
            ArchivedObject.objects.filter(pk=row.pk).update(
                retain_until=row.retain_until - timedelta(days=1)
            )
        with pytest.raises(DatabaseError, match="never changes"), transaction.atomic():
            ArchivedObject.objects.filter(pk=row.pk).update(sha256="0" * 64)
        # The app role has no DELETE at all; the trigger refuses it to the schema owner too.
        with (
            pytest.raises(DatabaseError, match=r"permission denied|append-only"),
            transaction.atomic(),
        ):
            ArchivedObject.objects.filter(pk=row.pk).delete()


def test_a_new_version_is_locked_at_least_as_long_as_the_extended_ones(conversation, backend):
    services.archive_conversation(conversation.pk)
    until = timezone.now() + timedelta(days=20 * 365)
    services.extend_retention(conversation.pk, until)
    another_message(conversation)

    newer = services.archive_conversation(conversation.pk)

    assert newer.retain_until == lock_time(until)


def test_at_cutoff_the_file_plans_date_extends_the_archive(conversation, backend, monkeypatch):
    row = services.archive_conversation(conversation.pk)  # no date yet: the minimum
    cutoff_plus_retention = row.retain_until + timedelta(days=5 * 365)
    monkeypatch.setattr(services, "retention_floor", lambda conversation_id: cutoff_plus_retention)

    extended = services.sync_retention(conversation.agency_id)

    assert extended == 1
    assert all(r.retain_until == lock_time(cutoff_plus_retention) for r in _rows(conversation))
    with agency_scope(conversation.agency_id):
        (event,) = DomainEvent.objects.filter(type=types.ARCHIVE_RETENTION_EXTENDED)
    assert event.subject == {"conversation": conversation.pk}
    assert services.sync_retention(conversation.agency_id) == 0  # idempotent


def test_with_the_file_plan_the_archive_is_retained_until_its_destruction_date(
    conversation, backend
):
    from records.retention.selectors import retention_floor

    _file_plan(conversation.agency_id, retain_years=7)

    row = services.archive_conversation(conversation.pk)

    with agency_scope(conversation.agency_id):
        floor = retention_floor(conversation.pk)
    assert floor is not None and floor > timezone.now() + timedelta(days=6 * 365)
    assert row.retain_until == lock_time(floor)


def test_a_file_plan_change_extends_the_archive_through_the_stream(
    conversation,
    backend,
    worm_consumer_registered,
    eager,
    django_capture_on_commit_callbacks,
):
    from bsp.events.dispatch import dispatch_agency

    row = services.archive_conversation(conversation.pk)  # unscheduled: the minimum
    _file_plan(conversation.agency_id, retain_years=10)

    with django_capture_on_commit_callbacks(execute=True):
        dispatch_agency(conversation.agency_id)  # file_plan.changed → sync_retention

    assert all(
        r.retain_until > row.retain_until + timedelta(days=6 * 365) for r in _rows(conversation)
    )
