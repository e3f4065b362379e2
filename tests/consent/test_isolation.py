"""Agency isolation of the consent pages: another agency's ids are 404, and every URL
pattern with an id is in the matrix."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, reverse

from messaging.consent import urls as consent_urls
from messaging.consent.models import ConsentImport, ConsentTopic
from messaging.models import Consent
from tenants.scoping import agency_scope
from tests.consent.factories import TopicFactory
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

ID_URL_MATRIX = [
    ("contact", "get", "contact", {}),
    ("record", "post", "contact", {"status": "opted_out", "source": "phone", "staff_name": "X"}),
    ("export_csv", "get", "contact", {}),
    ("export_json", "get", "contact", {}),
    ("topic_edit", "get", "topic", {}),
    ("topic_edit", "post", "topic", {"name": "Taken", "wording": "Mine now"}),
    ("topic_qr", "get", "topic", {}),
    ("import", "get", "import", {}),
    ("import_progress", "get", "import", {}),
    ("import_commit", "post", "import", {}),
    ("import_discard", "post", "import", {}),
    ("import_reread", "post", "import", {}),
    ("import_report", "get", "import", {}),
]


@pytest.fixture
def objects_of_agency_b(agency_b):
    contact = ContactFactory(agency=agency_b)
    topic = TopicFactory(agency=agency_b, name="B's topic")
    with agency_scope(agency_b):
        consent_import = ConsentImport.objects.create(
            agency=agency_b,
            filename="b.csv",
            sha256="0" * 64,
            size=1,
            encoding="utf-8",
            default_region="US",
        )
    return {"contact": contact.pk, "topic": topic.pk, "import": consent_import.pk}


@pytest.mark.parametrize(("name", "method", "kind", "data"), ID_URL_MATRIX)
def test_another_agencys_object_is_not_found(
    admin_client, objects_of_agency_b, name, method, kind, data
):
    url = reverse(f"contacts:{name}", args=[objects_of_agency_b[kind]])
    assert getattr(admin_client, method)(url, data).status_code == 404


def test_another_agencys_objects_are_unchanged_after_the_attempts(
    admin_client, agency_b, objects_of_agency_b
):
    for name, method, kind, data in ID_URL_MATRIX:
        getattr(admin_client, method)(
            reverse(f"contacts:{name}", args=[objects_of_agency_b[kind]]), data
        )
    with agency_scope(agency_b):
        assert not Consent.objects.exists()
        assert ConsentTopic.objects.get().name == "B's topic"
        assert ConsentImport.objects.get().status == ConsentImport.Status.PREVIEWED


def test_every_consent_url_with_an_id_is_in_the_isolation_matrix():
    with_ids = {
        p.name
        for p in consent_urls.urlpatterns
        if isinstance(p, URLPattern) and p.pattern.converters and p.name
    }
    assert with_ids == {name for name, *_ in ID_URL_MATRIX}
