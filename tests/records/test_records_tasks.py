"""The records tasks: the beat fan-out, the signer's alert, the daily verification."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bsp.celery import app as celery_app
from records import tasks
from records.audit import Actor, record_event
from records.models import RecordCheckpoint
from tenants.scoping import agency_scope
from tests.factories import InboundMessageFactory
from tests.records.test_records_verify import _owner, _rewrite_audit_event, _sign

ACTOR = Actor.system("test")


@pytest.fixture
def eager() -> Iterator[None]:
    """Run what a task enqueues in-process, for this test only."""
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = False


def test_the_beat_task_checkpoints_every_agency(
    eager, agency_a, agency_b, django_capture_on_commit_callbacks
):
    InboundMessageFactory(agency=agency_a)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.sign_checkpoints()
    for agency, leaves in ((agency_a, 1), (agency_b, 0)):
        with agency_scope(agency):
            checkpoint = RecordCheckpoint.objects.get(agency=agency)
        assert (checkpoint.number, checkpoint.leaf_count) == (1, leaves)


def test_the_signer_alerts_at_once_when_the_chain_was_rewritten(
    transactional_db, owner_cursor, agency_a, caplog
):
    for i in range(3):
        record_event(agency_id=agency_a.pk, actor=ACTOR, action="case.updated", changes={"n": i})
    _sign(agency_a)
    _rewrite_audit_event(owner_cursor, agency_a, 2, {"n": "forged"})
    record_event(agency_id=agency_a.pk, actor=ACTOR, action="case.updated", changes={})

    with caplog.at_level(logging.ERROR, logger="records.checkpoints"):
        tasks.sign_agency_checkpoint(agency_id=agency_a.pk)

    (alert,) = [r for r in caplog.records if "rewritten" in r.getMessage()]
    assert alert.agency_id == agency_a.pk
    assert alert.checkpoint_number == 1


def test_the_signer_is_quiet_on_an_intact_chain(transactional_db, agency_a, caplog):
    record_event(agency_id=agency_a.pk, actor=ACTOR, action="case.updated", changes={})
    _sign(agency_a)
    record_event(agency_id=agency_a.pk, actor=ACTOR, action="case.updated", changes={})
    with caplog.at_level(logging.ERROR, logger="records.checkpoints"):
        tasks.sign_agency_checkpoint(agency_id=agency_a.pk)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_the_daily_verification_logs_the_agency_that_fails(
    transactional_db, owner_cursor, agency_a, agency_b, caplog
):
    message = InboundMessageFactory(agency=agency_a)
    _sign(agency_a)
    _sign(agency_b)
    _owner(
        owner_cursor,
        "UPDATE messaging_message SET content = '{}'::jsonb WHERE id = %s",
        [message.pk],
        untrigger="messaging_message",
    )
    with caplog.at_level(logging.ERROR, logger="records.tasks"):
        assert tasks.verify_records() == 1
    (failure,) = [r for r in caplog.records if r.getMessage() == "records verification failed"]
    assert failure.agency_id == agency_a.pk
    assert f"message id={message.pk} no longer matches" in failure.problem
