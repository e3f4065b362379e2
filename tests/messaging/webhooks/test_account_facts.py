"""Facts are state, the audit trail is a record: what account webhooks decide from (a
number's status before a ban, which report of a field is newest, which notices were seen)
lives on the models. Each test sets the fact on the model alone, with no audit history,
and shows the decision follows it."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from records.models import AuditEvent
from templates_mgr.models import MessageTemplate
from tenants.models import BusinessPortfolio, PhoneNumber, WhatsAppBusinessAccount
from tenants.scoping import agency_scope, system_scope
from tests.factories import PhoneNumberFactory, TemplateFactory, WabaFactory
from tests.messaging.webhooks.account_payloads import (
    ENTRY_TIME,
    account_update,
    ban,
    template_status,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def waba(agency_a):
    return WabaFactory(agency=agency_a)


def _reloaded(row):
    with agency_scope(row.agency_id):
        return type(row).objects.get(pk=row.pk)


def test_a_ban_keeps_each_numbers_status_on_the_number(ingest, waba):
    pending = PhoneNumberFactory(agency=waba.agency, waba=waba, status="pending")
    ingest(ban(waba.waba_id, "DISABLE"))
    assert _reloaded(pending).status == PhoneNumber.Status.BANNED
    assert _reloaded(pending).status_before_ban == PhoneNumber.Status.PENDING


def test_a_reinstatement_gives_back_the_status_the_number_keeps(ingest, waba):
    number = PhoneNumberFactory(
        agency=waba.agency, waba=waba, status="banned", status_before_ban="disconnected"
    )
    ingest(ban(waba.waba_id, "REINSTATE"))
    assert _reloaded(number).status == PhoneNumber.Status.DISCONNECTED


def test_a_report_older_than_the_one_the_template_keeps_changes_nothing(ingest, waba):
    template = TemplateFactory(
        agency=waba.agency,
        waba=waba,
        status=MessageTemplate.Status.APPROVED,
        meta_template_id="771",
        webhook_times={"status": ENTRY_TIME + 60},
    )
    event = ingest(template_status(waba.waba_id, "PAUSED", template_id=771, name=template.name))
    assert event.status == "processed"
    assert _reloaded(template).status == MessageTemplate.Status.APPROVED


def test_each_report_is_kept_on_the_template_with_metas_time(ingest, waba):
    template = TemplateFactory(agency=waba.agency, waba=waba, meta_template_id="772")
    ingest(template_status(waba.waba_id, "APPROVED", template_id=772, name=template.name))
    assert _reloaded(template).webhook_times["status"] == ENTRY_TIME


def test_a_notice_the_waba_has_seen_is_not_recorded_again(ingest, waba):
    payload = account_update(waba.waba_id, "PARTNER_ADDED", partner="Acme")
    ingest(payload)
    with agency_scope(waba.agency):
        assert AuditEvent.objects.filter(action="waba.account_update").count() == 1
        assert len(_reloaded(waba).webhook_notices) == 1
    ingest(payload)  # Meta's retry, another event row
    with agency_scope(waba.agency):
        assert AuditEvent.objects.filter(action="waba.account_update").count() == 1


# Reading the audit trail to show it (pages, API) or to verify it is what it is for.
_MAY_READ_THE_AUDIT_TRAIL = ("records/", "tenants/api/", "frontend/", "tenants/apps.py")


def test_no_production_code_reads_the_audit_trail_to_decide():
    readers = []
    packages = [p.parent for p in ROOT.glob("*/__init__.py") if p.parent.name != "tests"]
    for path in (path for package in packages for path in package.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "/migrations/" in relative:
            continue
        if relative.startswith(_MAY_READ_THE_AUDIT_TRAIL):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and any(a.name == "AuditEvent" for a in node.names):
                readers.append(relative)
    assert readers == []


def _carry_over(app_label: str, migration: str) -> None:
    from django.apps import apps
    from django.db import connection

    module = importlib.import_module(f"{app_label}.migrations.{migration}")
    # system_scope: the live models' managers are fail-closed (historical ones are not).
    with system_scope(), connection.schema_editor(atomic=False) as editor:
        module.carry_facts_over(apps, editor)


def test_the_migration_carries_the_audit_trails_facts_over_to_the_rows(ingest, waba):
    """Rows written before the facts had fields of their own get them from the trail."""
    template = TemplateFactory(
        agency=waba.agency, waba=waba, meta_template_id="773", status="PENDING"
    )
    number = PhoneNumberFactory(agency=waba.agency, waba=waba, status="pending")
    ingest(template_status(waba.waba_id, "APPROVED", template_id=773, name=template.name))
    ingest(ban(waba.waba_id, "DISABLE"))
    ingest(account_update(waba.waba_id, "PARTNER_ADDED", partner="Acme"))
    with agency_scope(waba.agency):
        MessageTemplate.objects.update(webhook_times={})
        PhoneNumber.objects.update(status_before_ban="")
        type(waba).objects.update(webhook_times={}, webhook_notices={})
    _carry_over("tenants", "0005_webhook_facts")
    _carry_over("templates_mgr", "0004_webhook_facts")
    assert _reloaded(template).webhook_times == {"status": ENTRY_TIME}
    assert _reloaded(number).status_before_ban == PhoneNumber.Status.PENDING
    assert _reloaded(waba).webhook_times == {"ban_state": ENTRY_TIME}
    ingest(account_update(waba.waba_id, "PARTNER_ADDED", partner="Acme"))  # a retry
    with agency_scope(waba.agency):
        assert AuditEvent.objects.filter(action="waba.account_update").count() == 1


@pytest.mark.parametrize(
    ("model", "facts"),
    [
        (PhoneNumber, {"status_before_ban", "webhook_times"}),
        (WhatsAppBusinessAccount, {"webhook_times", "webhook_notices"}),
        (BusinessPortfolio, {"webhook_times"}),
    ],
)
def test_operators_see_the_webhook_facts_but_cannot_edit_them(rf, model, facts):
    from django.contrib import admin

    model_admin = admin.site._registry[model]
    assert facts <= set(model_admin.get_readonly_fields(rf.get("/")))
