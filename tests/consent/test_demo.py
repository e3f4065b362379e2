"""The demo's consent seed: idempotent, through the services, and its sample CSV shows
every reason of the import's report."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from messaging.consent import demo, imports, selectors
from messaging.consent.models import ConsentTopic, ImportRow
from messaging.models import Consent, Contact
from records.audit import Actor
from records.models import AuditEvent
from tenants.scoping import agency_scope
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("seed_demo")


def _seed(agency) -> None:
    with agency_scope(agency), transaction.atomic():
        demo.seed_demo_consent(agency, ACTOR)


def _snapshot(agency) -> tuple[int, ...]:
    with agency_scope(agency):
        return (
            ConsentTopic.objects.count(),
            Contact.objects.count(),
            Consent.objects.count(),
            AuditEvent.objects.count(),
        )


def test_a_second_seed_changes_nothing(agency_a):
    ContactFactory(agency=agency_a, wa_id="14155550101")  # a citizen who wrote in
    _seed(agency_a)
    first = _snapshot(agency_a)
    _seed(agency_a)
    assert _snapshot(agency_a) == first
    assert first[:3] == (3, 4, 6)


def test_the_seeded_histories_are_what_the_policy_reads(agency_a):
    _seed(agency_a)
    with agency_scope(agency_a):
        rosa = Contact.objects.get(wa_id="12025550193")
        elena = Contact.objects.get(wa_id="12025550191")
        topics = {t.slug: t for t in selectors.topics(agency_a)}
        assert selectors.state_of(rosa, "alerts") == selectors.State.OPTED_OUT
        assert selectors.state_of(elena, "appointments") == selectors.State.OPTED_IN
    assert topics["news"].name == "Community news"
    assert topics["alerts"].keywords == ["ALERTS"] and topics["alerts"].page_enabled


def test_the_sample_csv_shows_every_reason(agency_a):
    _seed(agency_a)
    with agency_scope(agency_a):
        consent_import = imports.preview(
            actor=ACTOR,
            agency=agency_a,
            user=None,
            filename="sample.csv",
            raw=demo.SAMPLE_CSV.read_bytes(),
            default_topic="alerts",
        )
    assert consent_import.encoding == "utf-8-sig"
    assert consent_import.total_rows == 25
    assert consent_import.counts == {
        ImportRow.Outcome.WILL_OPT_IN: 19,
        ImportRow.Outcome.DUPLICATE: 2,
        ImportRow.Outcome.INVALID_NUMBER: 2,
        ImportRow.Outcome.OPTED_OUT: 1,
        ImportRow.Outcome.UNKNOWN_TOPIC: 1,
    }


def test_admins_download_the_sample(admin_client):
    response = admin_client.get(reverse("contacts:import_sample"))
    assert response.content == demo.SAMPLE_CSV.read_bytes()
    assert "attachment" in response["Content-Disposition"]
