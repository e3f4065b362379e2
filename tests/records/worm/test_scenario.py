"""A conversation's archive through its life, the clock moving: archived when idle (retained
the policy's minimum), held (legal hold on in the store), resolved (the cutoff: retention
extended to the file plan's date, a new version), eligible but held (nothing destroyed),
released (legal hold off), approved and destroyed (every version gone, the rows kept)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from bsp.events.dispatch import dispatch_agency
from records.archive import lock_time, worm_store
from records.holds import HeldRecordError
from records.holds.services import place_hold, release_hold
from records.retention import disposition
from records.retention.models import RecordCategory
from records.retention.selectors import retention_floor
from records.retention.services import (
    CategoryData,
    approve_report,
    compute_eligibility,
    save_category,
)
from records.selection import Selection
from records.worm import canonical, services, tasks
from records.worm.models import ArchivedObject
from tenants.scoping import agency_scope
from tests.factories import ConversationFactory, InboundMessageFactory
from tests.records.worm.conftest import ACTOR, resolve

START = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)


def _rows(conversation) -> list[ArchivedObject]:
    with agency_scope(conversation.agency_id):
        return list(ArchivedObject.objects.filter(conversation_id=conversation.pk).order_by("id"))


def _in_store(conversation) -> list:
    prefix = canonical.conversation_prefix(conversation.agency_id, conversation.pk)
    return worm_store().versions(prefix)


def _holds_in_store(conversation) -> set[bool]:
    store = worm_store()
    return {store.lock(v.key, v.version_id).legal_hold for v in _in_store(conversation)}


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """The approval enqueues the execution after commit; the test runs it itself."""
    from records.retention import tasks as retention_tasks

    monkeypatch.setattr(retention_tasks.execute_disposition, "delay", lambda **kwargs: None)


def test_a_conversations_archive_from_capture_to_destruction(
    agency_a, backend, worm_consumer_registered, eager, django_capture_on_commit_callbacks
):
    def at(days: float):
        return time_machine.travel(START + timedelta(days=days), tick=False)

    def deliver() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            dispatch_agency(agency_a.pk)

    with at(0):
        services.set_policy(
            agency_a.pk, mode="compliance", active_days=30, minimum_retention_days=30, actor=ACTOR
        )
        save_category(
            agency_a.pk,
            CategoryData(
                name="Citizen conversations",
                kind=RecordCategory.Kind.CONVERSATIONS,
                authority="GRS 6.1 item 011",
                cutoff=RecordCategory.Cutoff.CONVERSATION_RESOLVED,
                action=RecordCategory.Action.DESTROY,
                retain_years=1,
            ),
            actor=ACTOR,
        )
        chat = ConversationFactory(agency=agency_a)
        with agency_scope(agency_a):
            InboundMessageFactory(agency=agency_a, conversation=chat)
        deliver()

    # Idle for its active period: archived, retained the minimum (no cutoff yet).
    with at(31):
        tasks.archive_agency(agency_a.pk)
    (first,) = _rows(chat)
    assert first.retain_until == lock_time(START + timedelta(days=61))

    # A hold: every version under legal hold, in the store too.
    with at(40):
        hold = place_hold(
            agency_a.pk,
            matter_id="2027-CV-118",
            reason="Flood litigation",
            owner_id=None,
            selection=Selection(conversation_id=chat.pk),
            actor=ACTOR,
        )
        deliver()
    assert _holds_in_store(chat) == {True}

    # Resolved: the cutoff. The hourly run extends retention to the file plan's date and,
    # once the conversation is idle again, archives the new version (held, locked as long).
    with at(45):
        resolved = resolve(chat)
        deliver()
        with agency_scope(agency_a):
            floor = retention_floor(chat.pk)
        assert floor == resolved.resolved_at.replace(year=2028)
        tasks.archive_agency(agency_a.pk)
    assert [r.retain_until for r in _rows(chat)] == [lock_time(floor)]
    with at(76):
        tasks.archive_agency(agency_a.pk)
    rows = _rows(chat)
    assert len(rows) == 2 and {r.legal_hold for r in rows} == {True}
    assert {r.retain_until for r in rows} == {lock_time(floor)}

    # Eligible a year after the cutoff, but held: nothing is destroyed.
    due = floor + timedelta(days=1)
    with time_machine.travel(due, tick=False):
        report = compute_eligibility(agency_a.pk)
        assert report is not None
        with agency_scope(agency_a):
            assert list(report.items.values_list("status", flat=True)) == ["held"]
        approve_report(agency_a.pk, report.pk, actor=ACTOR)
        with django_capture_on_commit_callbacks(execute=True):
            assert disposition.execute_report(report.pk) is None  # nothing destroyed
        with pytest.raises(HeldRecordError, match="legal hold"):
            services.destroy_archived(chat.pk)
    assert len(_in_store(chat)) == 2

    # Released: legal hold off; then approved and executed: every version destroyed.
    with time_machine.travel(due + timedelta(days=1), tick=False):
        release_hold(hold.pk, reason="Matter closed", actor=ACTOR)
        deliver()
        assert _holds_in_store(chat) == {False}
        report = compute_eligibility(agency_a.pk)
        assert report is not None
        approve_report(agency_a.pk, report.pk, actor=ACTOR)
        with django_capture_on_commit_callbacks(execute=True):
            certificate = disposition.execute_report(report.pk)

    assert certificate is not None and certificate.counts["conversations"] == 1
    assert _in_store(chat) == []
    assert all(row.destroyed_at is not None for row in _rows(chat))
