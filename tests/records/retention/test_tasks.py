"""The beat's eligibility task, the execution task (takes the report's id, idempotent) and
the operators' command."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from records.retention import tasks
from records.retention.models import DestructionCertificate, DispositionReport
from records.retention.services import approve_report
from tenants.scoping import agency_scope
from tests.records.holds.helpers import OFFICER, conversation, say
from tests.records.retention.plan import category

pytestmark = pytest.mark.django_db(transaction=True)
DUE = datetime(2028, 2, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr(tasks.execute_disposition, "delay", lambda **kwargs: None)


def test_the_beat_task_reports_every_agency_with_records_due(agency_a, agency_b):
    for agency in (agency_a, agency_b):
        category(agency)
        say(conversation(agency), at=datetime(2026, 3, 1, tzinfo=UTC))
    say(conversation(agency_b), at=datetime(2027, 3, 1, tzinfo=UTC))  # not due yet
    with time_machine.travel(DUE, tick=False):
        assert tasks.compute_eligibility.apply().get() == 2
        assert tasks.compute_eligibility.apply().get() == 0  # already listed
    with agency_scope(agency_b):
        assert DispositionReport.objects.get().items.count() == 1


def test_the_execution_task_takes_the_reports_id_and_is_idempotent(agency_a):
    category(agency_a)
    say(conversation(agency_a), at=datetime(2026, 3, 1, tzinfo=UTC))
    with time_machine.travel(DUE, tick=False):
        tasks.compute_eligibility.apply()
        with agency_scope(agency_a):
            report = DispositionReport.objects.get()
        approve_report(agency_a.pk, report.pk, actor=OFFICER)
        first = tasks.execute_disposition.apply(kwargs={"report_id": report.pk}).get()
        again = tasks.execute_disposition.apply(kwargs={"report_id": report.pk}).get()
        gone = tasks.execute_disposition.apply(kwargs={"report_id": 987654}).get()
    assert first is not None and again is None and gone is None
    with agency_scope(agency_a):
        assert DestructionCertificate.objects.count() == 1


def test_the_command(agency_a, capsys):
    category(agency_a)
    say(conversation(agency_a), at=datetime(2026, 3, 1, tzinfo=UTC))
    with time_machine.travel(DUE, tick=False):
        call_command("records_disposition", "eligibility", "--agency", "agency-a")
        assert "computed" in capsys.readouterr().out
        call_command("records_disposition", "list", "--agency", "agency-a")
        report_id = int(capsys.readouterr().out.split("\t")[0])
        call_command("records_disposition", "execute", str(report_id))
        assert "nothing destroyed (not approved" in capsys.readouterr().out
        approve_report(agency_a.pk, report_id, actor=OFFICER)
        call_command("records_disposition", "execute", str(report_id))
        assert "certificate of destruction #1" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No agency"):
        call_command("records_disposition", "eligibility", "--agency", "nope")
