"""The records officer's pages: only MANAGE_RECORDS gets in; another agency's request is a
404; what is typed wrong comes back next to its field, never as a 500."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
import time_machine
from django.urls import reverse

from records.foia import services
from records.foia.models import (
    AgencyHoliday,
    Jurisdiction,
    RecordsRequest,
    Redaction,
    RequestItem,
)
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.records.foia.conftest import ACTOR, federal, new_request

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"records_foia:{name}", args=args)


def in_review_set(request, message, decision="pending") -> RequestItem:
    with agency_scope(request.agency_id):
        return RequestItem.objects.create(
            agency_id=request.agency_id, request=request, message=message, decision=decision
        )


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.INTEGRATOR])
def test_members_without_manage_records_get_a_403(client_for, make_member, request_a, role):
    client = client_for(make_member(role))
    assert client.get(url("list")).status_code == 403
    assert client.get(url("detail", request_a.pk)).status_code == 403
    response = client.post(url("toll", request_a.pk), {"toll-reason": "x"})
    assert response.status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client, request_a):
    assert client.get(url("list")).status_code == 302


def test_another_agencys_request_is_a_404(officer_client, agency_b, say):
    other = new_request(agency_b, federal(agency_b))
    assert officer_client.get(url("detail", other.pk)).status_code == 404
    assert (
        officer_client.post(url("extend", other.pk), {"ext-days": 1, "ext-reason": "x"}).status_code
        == 404
    )
    assert officer_client.get(url("item", other.pk, 1)).status_code == 404
    with agency_scope(agency_b):
        assert RecordsRequest.objects.get(pk=other.pk).due_on == other.due_on


def test_a_message_of_another_request_is_a_404_on_this_requests_review_page(
    officer_client, agency_a, foia_a, request_a, say
):
    item = in_review_set(new_request(agency_a, foia_a), say("hello"))
    assert officer_client.get(url("item", request_a.pk, item.pk)).status_code == 404


def test_the_list_shows_due_dates_and_flags_overdue_requests(officer_client, agency_a, foia_a):
    with time_machine.travel(dt.datetime(2025, 6, 2, 15, tzinfo=dt.UTC), tick=False):
        late = new_request(agency_a, foia_a, received_on=dt.date(2025, 6, 2))
    with time_machine.travel(dt.datetime(2025, 7, 2, 15, tzinfo=dt.UTC), tick=False):
        fresh = new_request(agency_a, foia_a, received_on=dt.date(2025, 7, 1))
        page = officer_client.get(url("list")).text
        overdue_only = officer_client.get(url("list"), {"show": "overdue"}).text
    assert "Jun 30, 2025" in page and "Overdue" in page
    assert late.number in overdue_only and fresh.number not in overdue_only


def test_an_officer_records_a_request_through_the_intake_form(officer_client, agency_a, foia_a):
    response = officer_client.post(
        url("create"),
        {
            "requester_name": "Pat Reporter",
            "requester_contact": "pat@news.example",
            "received_on": services.agency_today(agency_a).isoformat(),
            "jurisdiction": foia_a.pk,
            "description": "All messages about the boil-water notice.",
        },
    )
    with agency_scope(agency_a):
        created = RecordsRequest.objects.get()
    assert response.status_code == 302 and response.url == url("detail", created.pk)
    page = officer_client.get(response.url).text
    assert "Pat Reporter" in page and "Due" in page


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "This field is required."),
        ({"received_on": "not-a-date"}, "Enter a valid date."),
        ({"received_on": "2999-01-01"}, "cannot be in the future"),
        ({"jurisdiction": "999999"}, "Select a valid choice."),
        ({"requester_name": "a\x00b"}, "Null characters are not allowed."),
    ],
)
def test_intake_errors_are_shown_next_to_the_field(officer_client, agency_a, foia_a, data, error):
    form = {
        "requester_name": "Pat",
        "requester_contact": "pat@news.example",
        "received_on": "2025-06-02",
        "jurisdiction": foia_a.pk,
        "description": "d",
    }
    form.update(data) if data else form.clear()
    response = officer_client.post(url("create"), form)
    assert response.status_code == 200
    assert error in response.text
    assert "usa-form-group--error" in response.text


def test_an_extension_beyond_the_allowance_is_refused_next_to_the_days(officer_client, request_a):
    response = officer_client.post(
        url("extend", request_a.pk), {"ext-days": 11, "ext-reason": "Volume"}
    )
    assert response.status_code == 200
    assert "allows 10 working days of extension in all; 10 left." in response.text


def test_tolling_and_resuming_from_the_request_page(officer_client, request_a, agency_a):
    officer_client.post(url("toll", request_a.pk), {"toll-reason": "Asked to clarify"})
    page = officer_client.get(url("detail", request_a.pk)).text
    assert "Clock paused" in page and "Asked to clarify" in page
    officer_client.post(url("resume", request_a.pk), {"resume-reason": "Clarified"})
    with agency_scope(agency_a):
        assert RecordsRequest.objects.get(pk=request_a.pk).tolled_since is None


def test_the_review_page_shows_the_text_and_the_redacted_preview(officer_client, request_a, say):
    item = in_review_set(request_a, say("Call Ana at 512-555-0100"))
    response = officer_client.post(
        url("redact_span", request_a.pk, item.pk),
        {"span-start": 12, "span-end": 24, "span-code": "(b)(6)", "span-note": "A private number"},
    )
    assert response.status_code == 302
    page = officer_client.get(url("item", request_a.pk, item.pk)).text
    assert 'id="foia-text"' in page and ">Call Ana at 512-555-0100</div>" in page
    assert "[REDACTED (b)(6)]" in page and "12 characters withheld" in page
    detail = officer_client.get(url("detail", request_a.pk)).text
    assert "512-555-0100" not in detail  # the review set shows what will be produced


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"span-start": "abc", "span-end": "3"}, "Enter a whole number."),
        ({"span-start": "0", "span-end": "99999999999"}, "less than or equal to"),
        ({"span-start": "5", "span-end": "2"}, "The end comes after the start"),
        ({"span-start": "0", "span-end": "500"}, "The message&#x27;s text has 9 characters"),
        ({"span-start": "-4", "span-end": "2"}, "greater than or equal to 0"),
        ({"span-code": "<script>alert(1)</script>"}, "Select a valid choice."),
        ({"span-start": "1\x00", "span-end": "2"}, "Enter a whole number."),
    ],
)
def test_hostile_span_input_is_refused_next_to_the_field(
    officer_client, request_a, say, data, error
):
    item = in_review_set(request_a, say("Hello Ana"))
    form = {"span-start": "0", "span-end": "5", "span-code": "(b)(6)"}
    form.update(data)
    response = officer_client.post(url("redact_span", request_a.pk, item.pk), form)
    assert response.status_code == 200
    assert error in response.text
    assert "<script>alert(1)</script>" not in response.text
    with agency_scope(request_a.agency_id):
        assert not Redaction.objects.exists()


@pytest.mark.parametrize(
    ("phrase", "error"),
    [
        ("", "This field is required."),
        ("a\x00b", "Null characters are not allowed."),
        ("x" * 600, "at most 500"),
    ],
)
def test_a_hostile_phrase_is_refused_in_words(officer_client, request_a, say, phrase, error):
    in_review_set(request_a, say("Hello Ana"))
    response = officer_client.post(
        url("redact_phrase", request_a.pk), {"phrase-phrase": phrase, "phrase-code": "(b)(6)"}
    )
    assert response.status_code == 200
    assert error in response.text


def test_a_decision_for_messages_outside_the_review_set_is_refused(officer_client, request_a, say):
    in_review_set(request_a, say("Hello"))
    response = officer_client.post(
        url("decide", request_a.pk),
        {"review-items": ["999999", "x"], "review-decision": "responsive"},
    )
    assert response.status_code == 200
    assert "Select a valid choice." in response.text


def test_the_rules_page_adds_a_holiday_and_refuses_a_duplicate(officer_client, agency_a, foia_a):
    officer_client.post(url("add_holiday"), {"date": "2025-06-19", "name": "Juneteenth"})
    response = officer_client.post(url("add_holiday"), {"date": "2025-06-19", "name": "Again"})
    assert "already a holiday" in response.text
    with agency_scope(agency_a):
        assert AgencyHoliday.objects.count() == 1


def test_the_rules_page_adds_a_jurisdiction_and_an_exemption_code(officer_client, agency_a):
    officer_client.post(
        url("add_jurisdiction"),
        {
            "name": "Texas PIA",
            "response_days": 10,
            "extension_days": 0,
            "citation": "Gov't Code 552",
        },
    )
    with agency_scope(agency_a):
        texas = Jurisdiction.objects.get(name="Texas PIA")
    officer_client.post(
        url("add_code", texas.pk),
        {f"j{texas.pk}-code": "552.101", f"j{texas.pk}-label": "Confidential by law"},
    )
    page = officer_client.get(url("rules")).text
    assert "552.101" in page and "Confidential by law" in page


def test_a_production_is_downloaded_as_a_zip_of_the_package(
    officer_client, request_a, say, settings, tmp_path
):
    settings.RECORDS_PRODUCTIONS_DIR = str(tmp_path)
    in_review_set(request_a, say("The water main on Elm St."), decision="responsive")
    production = services.produce(
        request_a, actor=ACTOR, fmt="jsonl", bates_prefix="R-", bates_start=1
    )
    response = officer_client.get(url("download", request_a.pk, production.pk))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert any(name.endswith("manifest-sha256.txt") for name in names)
    assert any(name.endswith("/redaction-log.csv") for name in names)


def test_the_review_script_and_style_sheet_are_served_and_nothing_else(officer_client):
    assert officer_client.get(url("asset", "review.js"))["Content-Type"].startswith(
        "text/javascript"
    )
    assert officer_client.get(url("asset", "foia.css"))["Content-Type"].startswith("text/css")
    assert officer_client.get(url("asset", "views.py")).status_code == 404


def test_words_can_be_redacted_from_the_review_page_without_offsets(officer_client, request_a, say):
    item = in_review_set(request_a, say("Call Ana at 512-555-0100"))
    response = officer_client.post(
        url("redact_words", request_a.pk, item.pk),
        {"words-phrase": "512-555-0100", "words-code": "(b)(6)"},
    )
    assert response.status_code == 302
    page = officer_client.get(url("item", request_a.pk, item.pk)).text
    assert "Call Ana at <mark" in page


def test_deciding_on_the_review_page_moves_on_to_the_next_message(
    officer_client, request_a, say, agency_a
):
    first = in_review_set(request_a, say("first"))
    second = in_review_set(request_a, say("second"))
    response = officer_client.post(
        url("decide_item", request_a.pk, first.pk),
        {"decide-decision": "withheld", "decide-code": "(b)(5)"},
    )
    assert response.url == url("item", request_a.pk, second.pk)
    response = officer_client.post(
        url("decide_item", request_a.pk, second.pk), {"decide-decision": "responsive"}
    )
    assert response.url == url("detail", request_a.pk)
    with agency_scope(agency_a):
        decided = dict(RequestItem.objects.values_list("pk", "decision"))
    assert decided == {first.pk: "withheld", second.pk: "responsive"}


def test_withholding_on_the_review_page_without_a_code_is_refused_next_to_it(
    officer_client, request_a, say
):
    item = in_review_set(request_a, say("first"))
    response = officer_client.post(
        url("decide_item", request_a.pk, item.pk), {"decide-decision": "withheld"}
    )
    assert response.status_code == 200
    assert "Choose the exemption code." in response.text


def test_no_exemption_code_is_chosen_by_default(officer_client, request_a, say):
    item = in_review_set(request_a, say("Hello Ana"))
    response = officer_client.post(
        url("redact_span", request_a.pk, item.pk), {"span-start": "0", "span-end": "5"}
    )
    assert "This field is required." in response.text


def test_a_production_asked_for_on_the_page_is_queued_and_not_downloadable_yet(
    officer_client, request_a, say, agency_a
):
    in_review_set(request_a, say("The water main on Elm St."), decision="responsive")
    response = officer_client.post(
        url("produce", request_a.pk),
        {"prod-fmt": "pdf", "prod-bates_prefix": "REQ-", "prod-bates_start": "1"},
    )
    assert response.status_code == 302
    with agency_scope(agency_a):
        production = request_a.productions.get()
    page = officer_client.get(url("detail", request_a.pk)).text
    assert "Queued" in page and 'hx-trigger="every 3s"' in page
    assert officer_client.get(url("download", request_a.pk, production.pk)).status_code == 404


def test_the_list_heads_with_the_open_requests_counts(officer_client, agency_a, foia_a):
    today = services.agency_today(agency_a)
    new_request(agency_a, foia_a, received_on=today - dt.timedelta(days=60))  # overdue
    paused = new_request(agency_a, foia_a)
    services.toll(paused, actor=ACTOR, reason="Fees")
    extended = new_request(agency_a, foia_a)
    services.extend(extended, actor=ACTOR, days=2, reason="Volume")
    page = officer_client.get(url("list")).text
    assert (
        "<strong>3</strong> open: <strong>1</strong> overdue, <strong>0</strong> due within 3 "
        "working days, <strong>1</strong> with the clock paused, <strong>1</strong> extended."
    ) in page


def test_a_search_from_the_request_page_fills_the_review_set_and_holds_it(
    officer_client, request_a, say, agency_a
):
    say("The water main on Elm St. broke")
    say("Thanks for fixing the pothole")
    response = officer_client.post(
        url("search", request_a.pk),
        {
            "search-query": "water",
            "search-since": "",
            "search-until": "",
            "search-phone_number": "",
        },
    )
    assert response.status_code == 302
    page = officer_client.get(url("detail", request_a.pk)).text
    assert "The water main on Elm St. broke" in page and "pothole" not in page
    with agency_scope(agency_a):
        hold_id = RecordsRequest.objects.get(pk=request_a.pk).hold_id
    assert reverse("records_holds:detail", args=[hold_id]) in page


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "Give at least one search term or filter."),
        ({"search-since": "2025-02-01", "search-until": "2025-01-01"}, "comes on or after"),
        ({"search-contact_wa_id": "abc"}, "A WhatsApp number is digits"),
        ({"search-phone_number": "99999"}, "Select a valid choice."),
        ({"search-query": "x" * 501}, "at most 500 characters"),
    ],
)
def test_search_errors_are_shown_next_to_the_field(officer_client, request_a, data, error):
    response = officer_client.post(url("search", request_a.pk), data)
    assert response.status_code == 200
    assert error in response.text


HOSTILE = ["", "\x00", "-1", "99999999999999999999", "<script>x</script>", "😀" * 300, "%00"]


@pytest.mark.parametrize("value", HOSTILE)
def test_every_form_answers_hostile_input_in_words_never_a_500(
    officer_client, request_a, say, value
):
    item = in_review_set(request_a, say("Hello Ana"))
    with agency_scope(request_a.agency_id):
        jurisdiction_id = request_a.jurisdiction_id
    posts = {
        url("create"): [
            "requester_name",
            "requester_contact",
            "received_on",
            "jurisdiction",
            "description",
        ],
        url("extend", request_a.pk): ["ext-days", "ext-reason"],
        url("toll", request_a.pk): ["toll-reason"],
        url("status", request_a.pk): ["status-status", "status-note"],
        url("search", request_a.pk): [
            "search-query",
            "search-contact_wa_id",
            "search-since",
            "search-until",
            "search-phone_number",
            "search-label",
        ],
        url("decide", request_a.pk): ["review-items", "review-decision", "review-code"],
        url("redact_phrase", request_a.pk): ["phrase-phrase", "phrase-code", "phrase-note"],
        url("produce", request_a.pk): ["prod-fmt", "prod-bates_prefix", "prod-bates_start"],
        url("redact_span", request_a.pk, item.pk): [
            "span-start",
            "span-end",
            "span-code",
            "span-note",
        ],
        url("redact_words", request_a.pk, item.pk): ["words-phrase", "words-code"],
        url("withhold_media", request_a.pk, item.pk): ["media-code", "media-note"],
        url("decide_item", request_a.pk, item.pk): ["decide-decision", "decide-code"],
        url("add_jurisdiction"): ["name", "response_days", "extension_days", "citation"],
        url("add_code", jurisdiction_id): [f"j{jurisdiction_id}-code", f"j{jurisdiction_id}-label"],
        url("add_holiday"): ["date", "name"],
        url("add_federal_holidays"): ["federal-year"],
    }
    for target, fields in posts.items():
        response = officer_client.post(target, dict.fromkeys(fields, value))
        assert response.status_code in (200, 302), (target, response.status_code)
        assert "<script>x</script>" not in response.text
    assert officer_client.get(url("list"), {"show": value}).status_code == 200
    assert officer_client.get(url("detail", request_a.pk), {"decision": value}).status_code == 200


def test_ids_beyond_the_databases_range_are_404s(officer_client, request_a):
    huge = 2**70
    assert officer_client.get(url("detail", huge)).status_code == 404
    assert officer_client.get(url("item", request_a.pk, huge)).status_code == 404
    assert officer_client.get(url("download", request_a.pk, huge)).status_code == 404
    assert officer_client.post(url("remove_redaction", request_a.pk, huge)).status_code == 404
    assert officer_client.post(url("add_code", huge), {}).status_code == 404
    assert officer_client.post(url("remove_holiday", huge)).status_code == 404


def test_the_list_reads_a_fixed_number_of_queries_whatever_the_requests(
    officer_client, agency_a, foia_a, django_assert_max_num_queries
):
    for _ in range(3):
        services.extend(new_request(agency_a, foia_a), actor=ACTOR, days=1, reason="Volume")
    officer_client.get(url("list"))  # the session and the membership cached
    with django_assert_max_num_queries(30) as few:
        officer_client.get(url("list"))
    for _ in range(10):
        services.toll(new_request(agency_a, foia_a), actor=ACTOR, reason="Fees")
    with django_assert_max_num_queries(len(few.captured_queries)):
        officer_client.get(url("list"))


def test_the_review_page_links_a_stored_file_as_received(
    officer_client, request_a, agency_a, conversation_a
):
    from messaging.models import MediaObject
    from tests.factories import InboundMessageFactory

    with agency_scope(agency_a):
        media = MediaObject.objects.create(
            agency=agency_a,
            phone_number=conversation_a.phone_number,
            meta_media_id="m7",
            kind="image",
            mime_type="image/jpeg",
            status="stored",
        )
    message = InboundMessageFactory(
        agency=agency_a,
        conversation=conversation_a,
        type="image",
        content={"type": "image", "image": {"id": "m7"}},
        media=media,
    )
    item = in_review_set(request_a, message)
    page = officer_client.get(url("item", request_a.pk, item.pk)).text
    assert reverse("inbox:media", args=[media.pk]) in page
    assert "Withhold the file" in page


def test_the_rules_page_adds_a_years_federal_holidays(officer_client, agency_a):
    response = officer_client.post(url("add_federal_holidays"), {"federal-year": "2027"})
    assert response.status_code == 302
    page = officer_client.get(url("rules")).text
    assert "Birthday of Martin Luther King, Jr." in page and "Mon, Jan 18, 2027" in page
    refused = officer_client.post(url("add_federal_holidays"), {"federal-year": "3000"})
    assert "less than or equal to 2200" in refused.text
