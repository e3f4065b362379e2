"""Agency isolation of the template pages: another agency's template, WABA or banned term
by id is a 404 and stays unchanged; every URL of ours with an id is in the matrix."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, reverse

from templates_mgr import urls as templates_urls
from templates_mgr.models import BannedTerm, MessageTemplate
from tenants.scoping import agency_scope
from tests.factories import WabaFactory
from tests.templates_mgr.pages.factories import draft_template
from tests.templates_mgr.pages.test_editor import fields

pytestmark = pytest.mark.django_db

# Every template-manager URL taking an id: (url name, method, kind of object, POST data).
ID_URL_MATRIX = [
    ("create", "get", "waba", {}),
    ("create", "post", "waba", fields()),
    ("detail", "get", "template", {}),
    ("status", "get", "template", {}),
    ("edit", "get", "template", {}),
    ("edit", "post", "template", fields(body_text="Changed {{1}} x {{2}}.")),
    ("translate", "get", "template", {}),
    ("translate", "post", "template", fields(language="es")),
    ("submit", "get", "template", {}),
    ("submit", "post", "template", {"justification": "x"}),
    ("delete", "get", "template", {}),
    ("delete", "post", "template", {}),
    ("banned_term_delete", "post", "banned_term", {}),
]


@pytest.fixture
def objects_of_agency_b(agency_b) -> dict[str, int]:
    waba = WabaFactory(agency=agency_b)
    template = draft_template(agency_b, waba)
    with agency_scope(agency_b):
        term = BannedTerm.objects.create(agency=agency_b, term="raffle")
    return {"waba": waba.pk, "template": template.pk, "banned_term": term.pk}


@pytest.mark.parametrize(("name", "method", "kind", "data"), ID_URL_MATRIX)
def test_another_agencys_object_is_not_found(
    admin_client, waba, objects_of_agency_b, name, method, kind, data
):
    url = reverse(f"templates_mgr:{name}", args=[objects_of_agency_b[kind]])
    response = getattr(admin_client, method)(url, data)
    assert response.status_code == 404


def test_another_agencys_objects_are_unchanged_after_the_attempts(
    admin_client, waba, agency_b, objects_of_agency_b
):
    for name, method, kind, data in ID_URL_MATRIX:
        url = reverse(f"templates_mgr:{name}", args=[objects_of_agency_b[kind]])
        getattr(admin_client, method)(url, data)
    with agency_scope(agency_b):
        [template] = MessageTemplate.objects.all()
        assert template.status == MessageTemplate.Status.DRAFT
        assert template.components[0]["text"].startswith("Hello {{1}}")
        assert BannedTerm.objects.count() == 1


def test_another_agencys_account_in_the_library_filter_is_not_found(
    admin_client, waba, objects_of_agency_b
):
    response = admin_client.get(
        reverse("templates_mgr:library"), {"waba": objects_of_agency_b["waba"]}
    )
    assert response.status_code == 404


def test_every_template_url_with_an_id_is_in_the_isolation_matrix():
    with_ids = {
        pattern.name
        for pattern in templates_urls.urlpatterns
        if isinstance(pattern, URLPattern) and pattern.pattern.converters and pattern.name
    }
    assert with_ids == {name for name, *_ in ID_URL_MATRIX}
