"""A template's page: status and Meta's answer, translations, the preview with Meta's
samples, versions (who, when, what changed), the campaigns using it; deleting it through a
confirmation page that names those campaigns."""

from __future__ import annotations

import pytest
from django.urls import reverse

from messaging.campaigns.models import Campaign
from templates_mgr.models import MessageTemplate
from tenants.scoping import agency_scope
from tests.templates_mgr.pages.factories import approved_pair, draft_template, rejected_template
from tests.templates_mgr.pages.test_editor import fields

pytestmark = pytest.mark.django_db
Status = MessageTemplate.Status


def _campaign(template, number, name="Permit reminders") -> Campaign:
    with agency_scope(template.agency_id):
        return Campaign.objects.create(
            agency_id=template.agency_id,
            name=name,
            phone_number=number,
            template=template,
            status="scheduled",
        )


def test_the_detail_shows_status_translations_and_the_preview_with_samples(
    admin_client, agency_a, waba
):
    english, spanish = approved_pair(agency_a, waba)

    page = admin_client.get(reverse("templates_mgr:detail", args=[english.pk])).text

    assert ">Approved</span>" in page
    assert reverse("templates_mgr:detail", args=[spanish.pk]) in page
    assert "<strong>Ana</strong>" in page and "<strong>P-1042</strong>" in page
    assert f'data-template-detail="{english.pk}"' in page


def test_a_rejection_shows_metas_reason_and_recommendation(admin_client, agency_a, waba):
    template = rejected_template(agency_a, waba)

    page = admin_client.get(reverse("templates_mgr:detail", args=[template.pk])).text

    assert "Meta rejected it:" in page
    assert "Review the template guidelines and submit again." in page


def test_the_versions_say_who_saved_what_and_what_changed(admin_client, admin_a, agency_a, waba):
    create = reverse("templates_mgr:create", args=[waba.pk])
    admin_client.post(create, fields())
    with agency_scope(agency_a):
        template = MessageTemplate.objects.get()
    admin_client.post(
        reverse("templates_mgr:edit", args=[template.pk]), fields(footer_text="Springfield")
    )

    page = admin_client.get(reverse("templates_mgr:detail", args=[template.pk])).text

    assert page.count("Saved as draft") == 2
    assert admin_a.user.email in page
    assert ">footer</td>" in page
    assert ">first version</td>" in page


def test_the_campaigns_using_it_are_listed(admin_client, agency_a, number):
    english, _ = approved_pair(agency_a, number.waba)
    _campaign(english, number)

    page = admin_client.get(reverse("templates_mgr:detail", args=[english.pk])).text

    assert "Permit reminders" in page


def test_a_supervisor_reads_the_detail_without_actions(supervisor_client, agency_a, waba):
    template = draft_template(agency_a, waba)

    page = supervisor_client.get(reverse("templates_mgr:detail", args=[template.pk])).text

    assert "permit_ready" in page
    assert reverse("templates_mgr:edit", args=[template.pk]) not in page
    assert reverse("templates_mgr:delete", args=[template.pk]) not in page


def test_the_delete_confirmation_names_the_campaigns_using_it(admin_client, agency_a, number):
    template = draft_template(agency_a, number.waba)
    _campaign(template, number)

    page = admin_client.get(reverse("templates_mgr:delete", args=[template.pk])).text

    assert "A campaign uses it" in page
    assert "Permit reminders" in page


def test_deleting_a_draft_removes_it(admin_client, agency_a, waba):
    template = draft_template(agency_a, waba)

    response = admin_client.post(reverse("templates_mgr:delete", args=[template.pk]))

    assert response.status_code == 302
    with agency_scope(agency_a):
        assert not MessageTemplate.objects.filter(pk=template.pk).exists()


def test_deleting_a_submitted_template_deletes_it_at_meta(
    admin_client, agency_a, registered_number, simulator
):
    template = draft_template(agency_a, registered_number.waba)
    admin_client.post(reverse("templates_mgr:submit", args=[template.pk]), {})

    admin_client.post(reverse("templates_mgr:delete", args=[template.pk]))

    with agency_scope(agency_a):
        template.refresh_from_db()
    assert template.status == Status.DELETED
    assert simulator._call("GET", "/_sim/templates")["data"] == []


def test_a_supervisor_cannot_delete(supervisor_client, agency_a, waba):
    template = draft_template(agency_a, waba)
    assert (
        supervisor_client.post(reverse("templates_mgr:delete", args=[template.pk])).status_code
        == 403
    )


def test_the_translations_list_leaves_this_ones_status_to_the_live_block(
    admin_client, agency_a, waba
):
    # A tag for this translation in the list would go stale when the live block changes.
    english, _ = approved_pair(agency_a, waba)

    page = admin_client.get(reverse("templates_mgr:detail", args=[english.pk])).text
    translations = page.split("<h2>Translations</h2>")[1].split("</ul>")[0]

    assert "English (US): this one (status above)" in translations
    assert translations.count("usa-tag") == 1  # Spanish's
