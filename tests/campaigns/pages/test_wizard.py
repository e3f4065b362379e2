"""The campaign set-up wizard, step by step (one form and one submit per step): what each
step saves through the engine, and what it refuses, in words next to the field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from messaging.campaigns.forms import CSV_MAX_BYTES
from messaging.campaigns.models import Campaign
from templates_mgr.models import MessageTemplate
from tenants.scoping import agency_scope
from tests.campaigns.pages.conftest import opted_in
from tests.campaigns.pages.factories import CampaignFactory
from tests.factories import PhoneNumberFactory, TemplateFactory
from tests.inbox.teams.factories import LabelFactory

pytestmark = pytest.mark.django_db


def _reload(campaign: Campaign) -> Campaign:
    with agency_scope(campaign.agency_id):
        return Campaign.objects.get(pk=campaign.pk)


@pytest.fixture
def draft(agency_a, number, approved, admin_a) -> Campaign:
    return CampaignFactory(
        agency=agency_a,
        name="Flu clinic",
        phone_number=number,
        template=approved,
        created_by=admin_a.user,
    )


def _csv(text: str, name: str = "list.csv", content_type: str = "text/csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type=content_type)


# --- Step 1: name and number ------------------------------------------------------------


def test_an_admin_creates_a_draft_and_goes_on_to_the_template(admin_client, admin_a, number):
    response = admin_client.post(
        reverse("campaigns:create"), {"name": "  Flu   clinic ", "phone_number": number.pk}
    )
    with agency_scope(number.agency_id):
        campaign = Campaign.objects.get()
    assert response.url == reverse("campaigns:template", args=[campaign.pk])
    assert (campaign.name, campaign.status, campaign.created_by) == (
        "Flu clinic",
        Campaign.Status.DRAFT,
        admin_a.user,
    )


def test_an_agency_with_one_number_finds_it_chosen(admin_client, number):
    page = admin_client.get(reverse("campaigns:create")).text
    assert f'<option value="{number.pk}" selected>' in page
    assert "Choose a phone number" not in page


def test_an_agency_with_two_numbers_chooses_one(admin_client, number):
    PhoneNumberFactory(agency=number.agency)
    page = admin_client.get(reverse("campaigns:create")).text
    assert "Choose a phone number" in page
    assert f'<option value="{number.pk}" selected>' not in page


def test_a_campaign_without_a_name_is_refused_next_to_the_field(admin_client, number):
    response = admin_client.post(
        reverse("campaigns:create"), {"name": " ", "phone_number": number.pk}
    )
    assert response.status_code == 200
    assert 'aria-describedby="id_name_helptext id_name_error"' in response.text
    assert "Enter a name for the campaign." in response.text


def test_another_agencys_number_cannot_be_chosen(admin_client, agency_b):
    foreign = PhoneNumberFactory(agency=agency_b)
    response = admin_client.post(
        reverse("campaigns:create"), {"name": "Flu clinic", "phone_number": foreign.pk}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    with agency_scope(agency_b):
        assert not Campaign.objects.exists()


def test_a_supervisor_may_not_create_a_campaign(supervisor_client):
    assert supervisor_client.get(reverse("campaigns:create")).status_code == 403


# --- Step 2: the template ----------------------------------------------------------------


def test_the_template_step_offers_only_the_numbers_approved_templates_with_their_preview(
    admin_client, agency_a, draft, approved
):
    TemplateFactory(
        agency=agency_a,
        waba=draft.phone_number.waba,
        name="still_pending",
        status=MessageTemplate.Status.PENDING,
    )
    TemplateFactory(agency=agency_a, name="other_wabas_template")
    page = admin_client.get(reverse("campaigns:template", args=[draft.pk])).text
    assert "appointment_reminder" in page
    assert "still_pending" not in page and "other_wabas_template" not in page
    assert "Hello " in page and "Maria" in page and "March 3" in page  # the approved samples


def test_choosing_a_template_saves_it_and_goes_on_to_the_audience(admin_client, agency_a, draft):
    other = TemplateFactory(agency=agency_a, waba=draft.phone_number.waba, name="second_notice")
    response = admin_client.post(
        reverse("campaigns:template", args=[draft.pk]), {"template": other.pk}
    )
    assert response.url == reverse("campaigns:audience", args=[draft.pk])
    assert _reload(draft).template_id == other.pk


def test_a_template_not_approved_is_refused(admin_client, agency_a, draft):
    paused = TemplateFactory(
        agency=agency_a, waba=draft.phone_number.waba, status=MessageTemplate.Status.PAUSED
    )
    response = admin_client.post(
        reverse("campaigns:template", args=[draft.pk]), {"template": paused.pk}
    )
    assert response.status_code == 200
    assert "not approved for this number" in response.text


# --- Step 3: the audience -----------------------------------------------------------------


def test_opted_in_contacts_narrowed_by_label_and_attribute_are_saved(admin_client, agency_a, draft):
    label = LabelFactory(agency=agency_a, name="Clinic")
    response = admin_client.post(
        reverse("campaigns:audience", args=[draft.pk]),
        {
            "source": "contacts",
            "label": label.pk,
            "attribute_key": "county",
            "attribute_value": "Travis",
        },
    )
    assert response.url == reverse("campaigns:variables", args=[draft.pk])
    audience = _reload(draft).audience
    assert audience["source"] == "contacts"
    assert audience["label_ids"] == [label.pk]
    assert audience["attributes"] == [{"key": "county", "value": "Travis"}]


def test_an_attribute_without_its_value_is_refused(admin_client, draft):
    response = admin_client.post(
        reverse("campaigns:audience", args=[draft.pk]),
        {"source": "contacts", "attribute_key": "county"},
    )
    assert "Give both the attribute and its value, or neither." in response.text


def test_an_uploaded_list_with_bad_rows_shows_each_rows_problem(admin_client, draft):
    text = "phone,first_name\n+52 55 5000 1234,Ana\nnot a number,Bob\n+52 55 5000 1234,Ana again\n"
    response = admin_client.post(
        reverse("campaigns:audience", args=[draft.pk]),
        {"source": "csv", "csv_file": _csv(text)},
    )
    assert response.status_code == 200
    page = response.text
    assert "Rows of list.csv that will not be used (2)" in page
    assert "not a number" in page
    assert _reload(draft).audience["source"] == "csv"


def test_a_file_that_is_not_a_csv_is_refused_before_it_is_read(admin_client, draft):
    response = admin_client.post(
        reverse("campaigns:audience", args=[draft.pk]),
        {
            "source": "csv",
            "csv_file": _csv(
                "MZ\x00\x01", name="list.exe", content_type="application/x-msdownload"
            ),
        },
    )
    assert response.status_code == 200
    assert "Choose a .csv file" in response.text


def test_a_csv_of_binary_garbage_is_refused_in_words(admin_client, draft):
    garbage = SimpleUploadedFile("list.csv", bytes(range(256)) * 8, content_type="text/csv")
    response = admin_client.post(
        reverse("campaigns:audience", args=[draft.pk]), {"source": "csv", "csv_file": garbage}
    )
    assert response.status_code == 200
    assert 'id="id_csv_file_error"' in response.text


def test_a_file_larger_than_the_limit_is_refused(admin_client, draft):
    big = _csv("phone\n" + "+525550001234\n" * (CSV_MAX_BYTES // 14 + 1))
    response = admin_client.post(
        reverse("campaigns:audience", args=[draft.pk]), {"source": "csv", "csv_file": big}
    )
    assert f"larger than {CSV_MAX_BYTES // (1024 * 1024)} MB" in response.text


def test_choosing_an_uploaded_list_without_a_file_is_refused(admin_client, draft):
    response = admin_client.post(reverse("campaigns:audience", args=[draft.pk]), {"source": "csv"})
    assert "Choose the CSV file to upload." in response.text


# --- Step 4: the variables ----------------------------------------------------------------


def test_the_mapping_is_saved_per_variable(admin_client, draft):
    response = admin_client.post(
        reverse("campaigns:variables", args=[draft.pk]),
        {
            "var_1-source": "attribute",
            "var_1-value": "first_name",
            "var_2-source": "fixed",
            "var_2-value": "March 3 at 9 AM",
        },
    )
    assert response.url == reverse("campaigns:schedule", args=[draft.pk])
    assert _reload(draft).variable_mapping == {
        "var_1": {"source": "attribute", "value": "first_name"},
        "var_2": {"source": "fixed", "value": "March 3 at 9 AM"},
    }


def test_the_preview_shows_what_real_recipients_will_read(admin_client, agency_a, draft):
    opted_in(agency_a, 2)
    admin_client.post(
        reverse("campaigns:variables", args=[draft.pk]),
        {
            "var_1-source": "attribute",
            "var_1-value": "first_name",
            "var_2-source": "fixed",
            "var_2-value": "March 3",
            "then": "preview",
        },
    )
    page = admin_client.get(reverse("campaigns:variables", args=[draft.pk])).text
    assert "Name0" in page and "Name1" in page


def test_a_column_the_uploaded_list_lacks_is_refused(admin_client, draft):
    admin_client.post(
        reverse("campaigns:audience", args=[draft.pk]),
        {"source": "csv", "csv_file": _csv("phone,first_name\n+52 55 5000 1234,Ana\n")},
    )
    response = admin_client.post(
        reverse("campaigns:variables", args=[draft.pk]),
        {
            "var_1-source": "column",
            "var_1-value": "nickname",
            "var_2-source": "fixed",
            "var_2-value": "x",
        },
    )
    assert response.status_code == 200
    assert "The uploaded list has no column “nickname” (first_name)." in response.text
    assert 'id="id_var_1-value_error"' in response.text


def test_a_column_of_the_uploaded_list_fills_a_variable(admin_client, draft):
    admin_client.post(
        reverse("campaigns:audience", args=[draft.pk]),
        {"source": "csv", "csv_file": _csv("phone,first_name\n+52 55 5000 1234,Ana\n")},
    )
    response = admin_client.post(
        reverse("campaigns:variables", args=[draft.pk]),
        {
            "var_1-source": "column",
            "var_1-value": "first_name",
            "var_2-source": "fixed",
            "var_2-value": "x",
        },
    )
    assert response.url == reverse("campaigns:schedule", args=[draft.pk])
    assert _reload(draft).variable_mapping["var_1"] == {"source": "column", "value": "first_name"}


def test_the_variables_step_sends_back_to_the_template_when_none_is_chosen(
    admin_client, agency_a, number
):
    campaign = CampaignFactory(agency=agency_a, phone_number=number, template=None)
    response = admin_client.get(reverse("campaigns:variables", args=[campaign.pk]))
    assert response.url == reverse("campaigns:template", args=[campaign.pk])


# --- Step 5: the schedule -----------------------------------------------------------------


@time_machine.travel(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False)
def test_a_time_is_read_in_the_agencys_time_zone(admin_client, draft):
    # Agency A is in America/Chicago: 09:30 there on March 2 is 15:30 UTC.
    response = admin_client.post(
        reverse("campaigns:schedule", args=[draft.pk]),
        {"when": "later", "send_date": "2026-03-02", "send_time": "09:30"},
    )
    assert response.url == reverse("campaigns:review", args=[draft.pk])
    assert _reload(draft).scheduled_at == datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


@time_machine.travel(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False)
def test_a_time_already_passed_is_refused(admin_client, draft):
    response = admin_client.post(
        reverse("campaigns:schedule", args=[draft.pk]),
        {"when": "later", "send_date": "2026-03-01", "send_time": "05:00"},
    )
    assert "That time has passed" in response.text
    assert _reload(draft).scheduled_at is None


def test_later_without_a_date_is_refused_next_to_the_date(admin_client, draft):
    response = admin_client.post(
        reverse("campaigns:schedule", args=[draft.pk]), {"when": "later", "send_time": "09:30"}
    )
    assert 'id="id_send_date_error"' in response.text


def test_a_started_campaign_is_no_longer_changed_in_the_wizard(admin_client, draft):
    with agency_scope(draft.agency_id):
        Campaign.objects.filter(pk=draft.pk).update(status=Campaign.Status.SENDING)
    response = admin_client.post(reverse("campaigns:edit", args=[draft.pk]), {"name": "Renamed"})
    assert response.url == reverse("campaigns:detail", args=[draft.pk])
    assert _reload(draft).name == "Flu clinic"


def test_the_step_indicator_marks_the_current_step_for_assistive_technology(admin_client, draft):
    page = admin_client.get(reverse("campaigns:audience", args=[draft.pk])).text
    assert 'usa-step-indicator__segment--current" aria-current="true"' in page
    assert '<span class="usa-step-indicator__current-step">3</span>' in page
