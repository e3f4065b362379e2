"""The library: every name with its translations side by side, status in words (Meta's
reason for a rejection), quality, filters; supervisors read it without the editing links."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from templates_mgr.models import MessageTemplate
from tenants.scoping import agency_scope
from tests.factories import WabaFactory
from tests.templates_mgr.pages.factories import approved_pair, draft_template, rejected_template

pytestmark = pytest.mark.django_db
LIBRARY = reverse("templates_mgr:library")


def test_translations_of_one_name_sit_side_by_side_with_their_status_in_words(
    admin_client, agency_a, waba
):
    english, spanish = approved_pair(agency_a, waba)

    page = admin_client.get(LIBRARY).text

    assert page.count(">permit_ready</th>") == 1
    assert ">English (US)</th>" in page and ">Spanish</th>" in page
    assert f'id="tpl-{english.pk}"' in page and f'id="tpl-{spanish.pk}"' in page
    assert ">Approved</span>" in page
    assert ">Pending review</span>" in page
    assert "Quality: High" in page


def test_a_rejected_template_shows_metas_reason(admin_client, agency_a, waba):
    rejected_template(agency_a, waba, name="tax_notice")

    page = admin_client.get(LIBRARY).text

    assert ">Rejected</span>" in page
    assert "Meta: The template was rejected: INVALID_FORMAT." in page


def test_the_status_filter_keeps_only_matching_translations(admin_client, agency_a, waba):
    approved_pair(agency_a, waba)
    draft_template(agency_a, waba, name="water_outage")

    page = admin_client.get(LIBRARY, {"status": "DRAFT"}).text

    assert "water_outage" in page
    assert "permit_ready" not in page


def test_the_search_finds_a_name_by_its_words(admin_client, agency_a, waba):
    approved_pair(agency_a, waba)
    draft_template(agency_a, waba, name="water_outage")

    page = admin_client.get(LIBRARY, {"q": "water outage"}).text

    assert "water_outage" in page
    assert "permit_ready" not in page


def test_an_unknown_filter_value_is_ignored_not_an_error(admin_client, agency_a, waba):
    approved_pair(agency_a, waba)

    response = admin_client.get(
        LIBRARY, {"status": "<script>", "category": "x" * 5000, "q": "\x00"}
    )

    assert response.status_code == 200
    assert "permit_ready" in response.text


def test_an_admin_sees_the_new_template_link(admin_client, waba):
    page = admin_client.get(LIBRARY).text
    assert reverse("templates_mgr:create", args=[waba.pk]) in page


def test_a_supervisor_reads_the_library_without_editing_links(supervisor_client, agency_a, waba):
    approved_pair(agency_a, waba)

    page = supervisor_client.get(LIBRARY).text

    assert "permit_ready" in page
    assert reverse("templates_mgr:create", args=[waba.pk]) not in page
    assert "Banned terms" not in page


def test_an_agent_may_not_see_templates(agent_client):
    assert agent_client.get(LIBRARY).status_code == 403


def test_the_library_of_a_second_account_is_chosen_by_its_id(admin_client, agency_a, waba):
    other = WabaFactory(agency=agency_a, name="Parks")
    draft_template(agency_a, other, name="park_closed")
    approved_pair(agency_a, waba)

    page = admin_client.get(LIBRARY, {"waba": other.pk}).text

    assert "park_closed" in page
    assert "permit_ready" not in page


def test_the_status_cell_is_served_alone_for_the_live_page(admin_client, agency_a, waba):
    english, _ = approved_pair(agency_a, waba)

    fragment = admin_client.get(reverse("templates_mgr:status", args=[english.pk])).text

    assert fragment.strip().startswith(f'<td id="tpl-{english.pk}"')
    assert ">Approved</span>" in fragment


def test_a_missing_translation_offers_to_translate_into_that_language(admin_client, agency_a, waba):
    approved_pair(agency_a, waba)
    draft_template(agency_a, waba, name="water_outage")  # English only

    page = admin_client.get(LIBRARY).text

    assert "Not translated" in page
    assert "?language=es" in page


def test_the_cell_served_alone_shows_the_change_in_the_agencys_time(admin_client, agency_a, waba):
    # The live page swaps this fragment in: outside base.html, it must still show the
    # agency's time (Chicago, UTC-6 in December), not UTC.
    agency_a.timezone = "America/Chicago"
    agency_a.save(update_fields=["timezone"])
    english, _ = approved_pair(agency_a, waba)
    changed = datetime(2026, 12, 2, 19, 17, tzinfo=UTC)
    with agency_scope(agency_a):
        MessageTemplate.objects.filter(pk=english.pk).update(updated_at=changed)
    status = reverse("templates_mgr:status", args=[english.pk])

    cell = admin_client.get(status).text
    block = admin_client.get(f"{status}?part=detail").text
    library = admin_client.get(LIBRARY).text

    for page in (cell, block, library):
        assert "2 Dec 2026, 13:17" in page
        assert "19:17" not in page


def test_the_search_field_is_a_plain_text_field_labelled_by_what_it_searches(admin_client, waba):
    page = admin_client.get(LIBRARY).text

    assert '<label class="usa-label" for="filter-q">Name contains</label>' in page
    assert 'id="filter-q" name="q" type="text"' in page
