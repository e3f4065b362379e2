"""DLP's rows beside a record go with it (issue 12 §2 and §8): destroying a conversation
whose messages were flagged and auto-answered removes the flags and the cooldown, and
leaves the certificate as for any other conversation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from records.dlp.models import DlpAutoReply, DlpFlag
from records.retention import disposition
from records.retention.services import approve_report, compute_eligibility
from tenants.scoping import agency_scope
from tests.records.holds.helpers import OFFICER, conversation, say
from tests.records.retention.plan import category

pytestmark = pytest.mark.django_db(transaction=True)
SAID = datetime(2026, 3, 10, 15, tzinfo=UTC)
DUE = datetime(2028, 2, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    from records.retention import tasks

    monkeypatch.setattr(tasks.execute_disposition, "delay", lambda **kwargs: None)


def test_a_flagged_conversation_is_destroyed_with_its_dlp_rows(agency_a):
    category(agency_a)
    chat = conversation(agency_a)
    message = say(chat, "my ssn is 536-22-1234", at=SAID)
    with agency_scope(agency_a):
        DlpFlag.objects.create(
            agency=agency_a,
            message=message,
            conversation=chat,
            direction="in",
            kinds=["ssn"],
            detector_version="1",
        )
        DlpAutoReply.objects.create(agency=agency_a, conversation=chat, sent_at=SAID)
    with time_machine.travel(DUE, tick=False):
        report = compute_eligibility(agency_a.pk)
        assert report is not None
        approve_report(agency_a.pk, report.pk, actor=OFFICER)
        certificate = disposition.execute_report(report.pk)
    assert certificate is not None and certificate.counts["messages"] == 1
    with agency_scope(agency_a):
        assert not DlpFlag.objects.exists()
        assert not DlpAutoReply.objects.exists()
