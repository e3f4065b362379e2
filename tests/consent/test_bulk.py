"""The staged bulk insert: both transports (COPY, executemany) write the same rows, with
the model's defaults, under row-level security, and skip conflicts when asked."""

from __future__ import annotations

import pytest
from django.db import transaction

from messaging.consent import bulk
from messaging.models import Consent, Contact
from tenants.scoping import agency_scope
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("transport", ["copy", "executemany"])
def test_rows_get_the_models_defaults_and_json(agency_a, transport):
    with agency_scope(agency_a), transaction.atomic():
        inserted = bulk.insert(
            Contact,
            [
                {"agency_id": agency_a.pk, "wa_id": "12025550101", "profile_name": "Zoë"},
                {"agency_id": agency_a.pk, "wa_id": "12025550102", "profile_name": ""},
            ],
            transport=transport,
        )
        contact = Contact.objects.get(wa_id="12025550101")
        bulk.insert(
            Consent,
            [
                {
                    "agency_id": agency_a.pk,
                    "contact_id": contact.pk,
                    "topic": "",
                    "status": "opted_in",
                    "source": "import",
                    "evidence": {"row": 2, "note": 'tab\there, quote " and \\ back'},
                    "recorded_at": contact.created_at,
                }
            ],
            transport=transport,
        )
        consent = Consent.objects.get()
    assert inserted == 2
    assert (contact.profile_name, contact.attributes, contact.business_scoped_user_id) == (
        "Zoë",
        {},
        None,
    )
    assert contact.created_at is not None
    assert consent.evidence == {"row": 2, "note": 'tab\there, quote " and \\ back'}
    assert consent.recorded_by_id is None


@pytest.mark.parametrize("transport", ["copy", "executemany"])
def test_conflicts_are_skipped_when_asked(agency_a, transport):
    ContactFactory(agency=agency_a, wa_id="12025550101", profile_name="Kept")
    with agency_scope(agency_a), transaction.atomic():
        inserted = bulk.insert(
            Contact,
            [
                {"agency_id": agency_a.pk, "wa_id": "12025550101", "profile_name": "New"},
                {"agency_id": agency_a.pk, "wa_id": "12025550102", "profile_name": "B"},
            ],
            ignore_conflicts=True,
            transport=transport,
        )
        assert Contact.objects.get(wa_id="12025550101").profile_name == "Kept"
    assert inserted == 1


def test_another_agencys_rows_are_refused_by_row_level_security(agency_a, agency_b):
    with (
        agency_scope(agency_a),
        pytest.raises(Exception, match="row-level security"),
        transaction.atomic(),
    ):
        bulk.insert(Contact, [{"agency_id": agency_b.pk, "wa_id": "12025550101"}])
    with agency_scope(agency_b):
        assert not Contact.objects.exists()
