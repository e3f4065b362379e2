"""Campaigns under the DLP policy (issue 12 §8): a recipient whose template values carry
sensitive data (an SSN in an attribute or a CSV column) is skipped with its reason; the
rest of the campaign goes. The policy is loaded once per chunk; one scan per recipient."""

from __future__ import annotations

from bsp.events import types
from messaging.campaigns import services as campaigns
from messaging.campaigns.models import CampaignRecipient, SkipReason
from messaging.models import Message
from records.audit import Actor
from records.dlp import outbound
from tenants.scoping import agency_scope
from tests.campaigns.factories import ADMIN as CAMPAIGN_ADMIN
from tests.campaigns.factories import campaign, citizen, started, template
from tests.factories import PhoneNumberFactory
from tests.records.dlp.conftest import CARD, SSN, audits_of, events_of, everything_recorded


def test_the_screen_names_the_kinds_in_a_recipients_values_and_counts_them(agency_a):
    with agency_scope(agency_a):
        screen = outbound.screen(agency_a)
        assert screen.blocking({"var_1": "Ana", "var_2": "P-7"}) == []
        assert screen.blocking({"var_1": "Ana", "var_2": SSN}) == ["ssn"]
        assert screen.blocking({"var_1": CARD, "var_2": SSN}) == ["card_number", "ssn"]
    assert screen.skipped == {"ssn": 2, "card_number": 1}


def test_the_screen_records_one_audit_event_and_one_stream_event_per_chunk(agency_a):
    number = PhoneNumberFactory(agency=agency_a)
    c = campaign(number, template(number))
    with agency_scope(agency_a):
        screen = outbound.screen(agency_a)
        screen.blocking({"var_2": SSN})
        screen.blocking({"var_2": SSN})
        screen.record_skips(c)
        screen.record_skips(c)  # nothing new: nothing recorded
    [audit] = audits_of(agency_a, "dlp.campaign_recipients_skipped")
    assert audit.changes == {"kinds": {"ssn": 2}}
    [event] = events_of(agency_a, types.DLP_FLAGGED)
    assert event.subject == {"campaign": c.pk}
    assert event.payload == {"direction": "out", "outcome": "skipped", "kinds": {"ssn": 2}}


def test_the_screen_makes_no_query_per_recipient(agency_a, django_assert_num_queries):
    with agency_scope(agency_a):
        screen = outbound.screen(agency_a)
        with django_assert_num_queries(0):
            for i in range(500):
                screen.blocking({"var_1": f"Citizen {i}", "var_2": f"P-{i}"})


def test_a_recipient_whose_value_carries_an_ssn_is_skipped_and_the_rest_is_sent(agency_a):
    number = PhoneNumberFactory(agency=agency_a)
    utility = template(number)
    clean = citizen(agency_a)
    leaky = citizen(agency_a, permit=SSN)  # the attribute the template's {{2}} reads

    c = started(campaign(number, utility))

    with agency_scope(agency_a):
        recipients = {r.contact_id: r for r in CampaignRecipient.objects.filter(campaign=c)}
        messages = list(Message.objects.filter(campaign_id=c.pk))
    assert recipients[clean.pk].status == CampaignRecipient.Status.QUEUED
    assert recipients[leaky.pk].status == CampaignRecipient.Status.SKIPPED
    assert recipients[leaky.pk].skip_reason == "sensitive_data"
    assert [m.contact_id for m in messages] == [clean.pk]
    [audit] = audits_of(agency_a, "dlp.campaign_recipients_skipped")
    assert audit.changes == {"kinds": {"ssn": 1}}
    assert SSN not in str([e.payload for e in events_of(agency_a, types.DLP_FLAGGED)])
    assert "sensitive_data" in str(events_of(agency_a, types.CAMPAIGN_QUEUED)[0].payload)
    assert SSN not in everything_recorded(agency_a)


def test_with_the_outbound_check_off_the_campaign_sends_everyone(agency_a):
    from records.dlp import services

    services.update_policy(agency=agency_a, actor=Actor.system("t"), outbound_block=False)
    number = PhoneNumberFactory(agency=agency_a)
    citizen(agency_a, permit=SSN)
    c = started(campaign(number, template(number)))
    with agency_scope(agency_a):
        assert Message.objects.filter(campaign_id=c.pk).count() == 1


def test_an_ssn_in_a_csv_column_skips_that_row_with_its_reason(agency_a):
    import io

    number = PhoneNumberFactory(agency=agency_a)
    ana, ben = citizen(agency_a, wa_id="15125550100"), citizen(agency_a, wa_id="15125550101")
    data = f"phone,first_name,permit\n+15125550100,Ana,P-1\n+15125550101,Ben,{SSN}\n"
    upload = campaigns.upload_audience_csv(
        actor=CAMPAIGN_ADMIN, agency=agency_a, file=io.BytesIO(data.encode()), filename="l.csv"
    )
    assert upload.upload is not None, upload.error
    columns = {
        "var_1": {"source": "column", "value": "first_name"},
        "var_2": {"source": "column", "value": "permit"},
    }
    c = started(
        campaign(
            number,
            template(number),
            audience={"source": "csv", "upload_id": upload.upload.pk},
            mapping=columns,
        )
    )
    with agency_scope(agency_a):
        recipients = {r.contact_id: r for r in CampaignRecipient.objects.filter(campaign=c)}
        sent = list(Message.objects.filter(campaign_id=c.pk).values_list("contact_id", flat=True))
    assert recipients[ben.pk].skip_reason == SkipReason.SENSITIVE_DATA
    assert recipients[ben.pk].skip_reason_label.startswith("A template value carries")
    assert sent == [ana.pk]
    assert SSN not in everything_recorded(agency_a)
