"""A campaign's progress page: its figures (from the engine's live counters), recipients
with their status and reason (filtered, a page at a time), pause / resume / cancel, and the
CSV report."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from bsp.events.models import DomainEvent
from messaging.campaigns.models import Campaign, CampaignRecipient, SkipReason
from messaging.models import Message
from tenants.scoping import agency_scope
from tests.campaigns.pages.factories import (
    CampaignFactory,
    CampaignMessageFactory,
    CampaignRecipientFactory,
    CampaignStatsFactory,
)
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sending(agency_a, number, approved, admin_a) -> Campaign:
    campaign = CampaignFactory(
        agency=agency_a,
        name="Flu clinic",
        phone_number=number,
        template=approved,
        status=Campaign.Status.SENDING,
        created_by=admin_a.user,
        resolved=True,
    )
    CampaignStatsFactory(
        agency=agency_a,
        campaign=campaign,
        recipients=10,
        queued=2,
        sent=3,
        delivered=2,
        read=1,
        failed=1,
        skipped=1,
        skipped_by_reason={SkipReason.OPTED_OUT: 1},
        failed_by_reason={"131026: Message undeliverable": 1},
    )
    return campaign


def _recipient(campaign: Campaign, status: str, **fields) -> CampaignRecipient:
    agency = campaign.agency
    contact = ContactFactory(agency=agency)
    message = None
    if status in ("sent", "delivered", "read", "failed", "queued_message"):
        message = CampaignMessageFactory(
            agency=agency,
            conversation__phone_number=campaign.phone_number,
            conversation__contact=contact,
            status=Message.Status.QUEUED if status == "queued_message" else status,
            campaign_id=campaign.pk,
            **(
                {"error_code": 131026, "error_reason": "Message undeliverable"}
                if status == "failed"
                else {}
            ),
        )
    recipient_status = (
        CampaignRecipient.Status.QUEUED if message else fields.pop("recipient_status", status)
    )
    return CampaignRecipientFactory(
        agency=agency,
        campaign=campaign,
        contact=contact,
        wa_id=contact.wa_id,
        status=recipient_status,
        message=message,
        **fields,
    )


def test_the_page_shows_the_totals_and_each_status_in_words(supervisor_client, sending):
    page = supervisor_client.get(reverse("campaigns:detail", args=[sending.pk])).text
    assert '<span id="campaign-status">Sending</span>' in page
    assert 'data-count="delivered">2<' in page
    # The bars count those further along: 6 of the 9 to send were sent, 3 delivered, 1 read.
    assert "Sent: 6 of 9" in page and "Delivered: 3 of 9" in page and "Read: 1 of 9" in page
    assert "Opted out: 1" in page
    assert "131026: Message undeliverable: 1" in page


def test_the_page_names_the_event_stream_it_follows(supervisor_client, sending):
    page = supervisor_client.get(reverse("campaigns:detail", args=[sending.pk])).text
    assert f'data-campaign-progress="{sending.pk}"' in page
    assert f'data-live-stream="{reverse("inbox:stream")}"' in page
    assert "campaigns/progress.js" in page


def test_the_fragment_is_the_figures_alone_and_never_cached(supervisor_client, sending):
    response = supervisor_client.get(reverse("campaigns:progress", args=[sending.pk]))
    assert response.text.lstrip().startswith('<section id="campaign-progress"')
    assert response["Cache-Control"] == "no-store"


def test_recipients_show_their_status_and_reason(supervisor_client, sending):
    _recipient(sending, "read")
    _recipient(sending, "failed")
    _recipient(sending, "skipped", skip_reason=SkipReason.US_MARKETING)
    page = supervisor_client.get(reverse("campaigns:detail", args=[sending.pk])).text
    assert "US number: Meta does not deliver marketing templates to +1" in page
    assert "Message undeliverable" in page


def test_the_recipients_filter_shows_one_status(supervisor_client, sending):
    failed = _recipient(sending, "failed")
    read = _recipient(sending, "read")
    page = supervisor_client.get(
        reverse("campaigns:detail", args=[sending.pk]), {"status": "failed"}
    ).text
    assert failed.wa_id in page
    assert read.wa_id not in page


def test_recipients_come_a_page_at_a_time_with_a_link_to_the_next(supervisor_client, sending):
    recipients = [
        _recipient(sending, "skipped", skip_reason=SkipReason.NO_OPT_IN) for _ in range(52)
    ]
    first = supervisor_client.get(reverse("campaigns:detail", args=[sending.pk]))
    assert first.text.count("Has not opted in") == 50
    next_url = first.context["next_url"]
    second = supervisor_client.get(next_url).text
    assert second.count("Has not opted in") == 2
    assert recipients[-1].wa_id in second
    assert "First page" in second


def test_a_cursor_that_is_not_a_number_shows_the_first_page(supervisor_client, sending):
    response = supervisor_client.get(
        reverse("campaigns:detail", args=[sending.pk]), {"after": "1; DROP TABLE", "status": "x"}
    )
    assert response.status_code == 200


def test_an_admin_pauses_a_sending_campaign(admin_client, sending):
    response = admin_client.post(reverse("campaigns:pause", args=[sending.pk]))
    assert response.url == reverse("campaigns:detail", args=[sending.pk])
    with agency_scope(sending.agency_id):
        assert Campaign.objects.get(pk=sending.pk).status == Campaign.Status.PAUSED
        assert DomainEvent.objects.filter(type="campaign.paused").count() == 1


def test_an_admin_resumes_a_paused_campaign(admin_client, sending):
    admin_client.post(reverse("campaigns:pause", args=[sending.pk]))
    admin_client.post(reverse("campaigns:resume", args=[sending.pk]))
    with agency_scope(sending.agency_id):
        assert Campaign.objects.get(pk=sending.pk).status != Campaign.Status.PAUSED
        assert DomainEvent.objects.filter(type="campaign.resumed").count() == 1


def test_resuming_a_cancelled_campaign_is_refused_in_words(admin_client, sending):
    admin_client.post(reverse("campaigns:cancel", args=[sending.pk]))
    response = admin_client.post(reverse("campaigns:resume", args=[sending.pk]), follow=True)
    assert response.status_code == 200
    assert "it cannot be resumed" in response.text
    assert 'class="usa-alert usa-alert--error' in response.text


def test_cancelling_asks_first_and_says_what_it_does(admin_client, sending):
    page = admin_client.get(reverse("campaigns:cancel", args=[sending.pk])).text
    assert "Yes, cancel the campaign" in page
    assert "Messages not sent yet are never sent" in page
    with agency_scope(sending.agency_id):
        assert Campaign.objects.get(pk=sending.pk).status == Campaign.Status.SENDING


def test_an_admin_cancels_after_confirming(admin_client, sending):
    admin_client.post(reverse("campaigns:cancel", args=[sending.pk]))
    with agency_scope(sending.agency_id):
        assert Campaign.objects.get(pk=sending.pk).status == Campaign.Status.CANCELLED


def test_a_supervisor_sees_no_controls_and_may_not_pause(supervisor_client, sending):
    page = supervisor_client.get(reverse("campaigns:detail", args=[sending.pk])).text
    assert "Pause" not in page and "Cancel the campaign" not in page
    assert supervisor_client.post(reverse("campaigns:pause", args=[sending.pk])).status_code == 403


def test_pause_is_post_only(admin_client, sending):
    assert admin_client.get(reverse("campaigns:pause", args=[sending.pk])).status_code == 405


def test_the_report_is_rfc_4180_csv_with_formulas_made_harmless(supervisor_client, sending):
    contact = ContactFactory(agency=sending.agency, profile_name='=HYPERLINK("http://x","y")')
    CampaignRecipientFactory(
        agency=sending.agency,
        campaign=sending,
        contact=contact,
        wa_id=contact.wa_id,
        status=CampaignRecipient.Status.SKIPPED,
        skip_reason=SkipReason.OPTED_OUT,
    )
    response = supervisor_client.get(reverse("campaigns:report", args=[sending.pk]))
    body = b"".join(response.streaming_content).decode()
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="campaign-')
    assert body.endswith("\r\n") and "\n" not in body.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(body)))
    cells = [cell for row in rows[1:] for cell in row]
    assert not any(cell[:1] in ("=", "+", "-", "@") for cell in cells)
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)


def test_an_agent_may_not_see_campaigns(agent_client, sending):
    assert agent_client.get(reverse("campaigns:list")).status_code == 403
    assert agent_client.get(reverse("campaigns:detail", args=[sending.pk])).status_code == 403
