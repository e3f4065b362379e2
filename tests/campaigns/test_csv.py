"""Audience CSV files as agencies really have them (Excel's encodings and BOM, blank lines,
repeated rows, bad numbers, no phone column), their values in the template, and the
downloadable report of a CSV campaign."""

from __future__ import annotations

import pytest

from messaging.campaigns import services
from messaging.campaigns.audience import resolve
from messaging.campaigns.models import AudienceUpload, AudienceUploadRow, SkipReason
from messaging.campaigns.planning import preview_recipients
from tenants.scoping import agency_scope
from tests.campaigns.factories import ADMIN, campaign, citizen, started
from tests.factories import PhoneNumberFactory

P = AudienceUploadRow.Problem
COLUMNS = {
    "var_1": {"source": "column", "value": "first_name"},
    "var_2": {"source": "column", "value": "permit"},
}


def upload(agency, data: bytes | str, filename: str = "list.csv") -> services.UploadResult:
    raw = data.encode() if isinstance(data, str) else data
    return services.upload_audience_csv(actor=ADMIN, agency=agency, file=raw, filename=filename)


def rows(result: services.UploadResult) -> list[tuple[int, str, str, dict]]:
    assert result.upload is not None, result.error
    with agency_scope(result.upload.agency_id):
        found = AudienceUploadRow.objects.filter(upload=result.upload).order_by("row_number")
        return [(r.row_number, r.wa_id, r.problem, r.values) for r in found]


def test_excels_utf8_bom_does_not_hide_the_phone_column(agency_a):
    result = upload(agency_a, "\ufeffPhone,first_name\r\n+1 512 555 0100,Ana\r\n".encode())
    assert result.upload.number_column == "Phone"
    assert rows(result) == [(2, "15125550100", "", {"first_name": "Ana"})]


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_a_file_saved_in_a_windows_or_latin_1_encoding_keeps_its_accents(agency_a, encoding):
    text = "phone;first_name\n+34 612 345 678;José Müller\n"
    result = upload(agency_a, text.encode(encoding))
    assert rows(result) == [(2, "34612345678", "", {"first_name": "José Müller"})]


def test_blank_lines_are_not_rows_and_row_numbers_stay_the_files(agency_a):
    result = upload(agency_a, "phone,first_name\n\n+15125550100,Ana\n , \n\n+15125550101,Ben\n")
    assert [(n, wa_id) for n, wa_id, _, _ in rows(result)] == [
        (3, "15125550100"),
        (6, "15125550101"),
    ]
    assert result.upload.row_count == 2 and result.problems == []


def test_a_repeated_number_is_kept_once_and_the_repeat_reported_with_its_row(agency_a):
    result = upload(agency_a, "phone\n+1 512 555 0100\n15125550100\n0199\n+15125550100\n")
    assert [(n, problem) for n, _, problem, _ in rows(result)] == [
        (2, ""),
        (3, P.DUPLICATE),
        (4, P.INVALID_NUMBER),
        (5, P.DUPLICATE),
    ]
    assert [(p.row_number, p.reason) for p in result.problems] == [
        (3, P.DUPLICATE),
        (4, P.INVALID_NUMBER),
        (5, P.DUPLICATE),
    ]
    assert (result.upload.valid_count, result.upload.problem_count) == (1, 3)


def test_invalid_and_missing_numbers_are_reported_in_words(agency_a):
    result = upload(agency_a, "phone,first_name\n12,Ana\n,Ben\nnot a number,Cy\n")
    assert [(p.row_number, p.value, p.label) for p in result.problems] == [
        (2, "12", "Not a valid phone number with its country code"),
        (3, "", "No number in this row"),
        (4, "not a number", "Not a valid phone number with its country code"),
    ]


def test_a_number_written_without_its_country_code_is_read_in_the_agencys_country(agency_a):
    """(512) 555-0199 on a US agency's list is a US number, not Peru's +51 25550199."""
    PhoneNumberFactory(agency=agency_a, display_phone_number="+1 512 555 0100")
    result = upload(agency_a, "phone\n(512) 555-0199\n+44 7700 900123\n")
    assert [(wa_id, problem) for _, wa_id, problem, _ in rows(result)] == [
        ("15125550199", ""),
        ("447700900123", ""),
    ]


def test_the_phone_column_is_found_by_name_wherever_it_is(agency_a):
    result = upload(agency_a, "first_name,Mobile,permit\nAna,+15125550100,P-1\n")
    assert result.upload.number_column == "Mobile"
    assert rows(result) == [(2, "15125550100", "", {"first_name": "Ana", "permit": "P-1"})]


def test_without_a_phone_column_the_first_column_is_tried(agency_a):
    result = upload(agency_a, "contact,first_name\n+15125550100,Ana\n")
    assert result.upload.number_column == "contact"
    assert rows(result)[0][1] == "15125550100"


def test_a_file_without_any_phone_numbers_is_refused_with_what_to_do(agency_a):
    result = upload(agency_a, "first_name,email\nAna,ana@example.org\nBen,ben@example.org\n")
    assert result.upload is None
    assert "No column of phone numbers was found" in result.error
    assert "phone" in result.error
    with agency_scope(agency_a):
        assert not AudienceUpload.objects.exists()  # nothing stored


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", "The file is empty."),
        (b"\n\n \n", "The file is empty."),
        (b"phone,first_name\n", "The file has a header but no rows."),
        (b"phone,phone\n+15125550100,+15125550101\n", "Two columns of the header"),
        (b"\x00\x01\x02PK\x03\x04", "This is not a CSV text file."),
    ],
)
def test_a_file_that_cannot_be_used_stores_nothing_and_says_why(agency_a, data, error):
    result = upload(agency_a, data)
    assert result.upload is None and error in result.error
    with agency_scope(agency_a):
        assert not AudienceUpload.objects.exists()


def test_an_oversized_file_is_refused_before_it_is_parsed(agency_a):
    big = b"phone\n" + b"+15125550100\n" * (services.MAX_UPLOAD_BYTES // 13 + 1)
    result = upload(agency_a, big)
    assert result.upload is None
    assert result.error == "The file is larger than 20 MB; split it."


# --- the file's columns in the template ---------------------------------------------------


def csv_campaign(number, tmpl, text: str):
    result = upload(number.agency, text)
    assert result.upload is not None, result.error
    return campaign(
        number, tmpl, audience={"source": "csv", "upload_id": result.upload.pk}, mapping=COLUMNS
    )


def test_the_files_columns_fill_each_recipients_variables(agency_a, number, utility):
    citizen(agency_a, wa_id="15125550100"), citizen(agency_a, wa_id="15125550101")
    c = csv_campaign(
        number, utility, "phone,first_name,permit\n+15125550100,Ana,P-1\n+15125550101,Ben,P-2\n"
    )
    with agency_scope(agency_a):
        found = resolve(c)
    assert [(r.wa_id, r.skip_reason, r.variables) for r in found] == [
        ("15125550100", "", {"var_1": "Ana", "var_2": "P-1"}),
        ("15125550101", "", {"var_1": "Ben", "var_2": "P-2"}),
    ]


def test_a_row_missing_a_mapped_value_is_skipped_for_it(agency_a, number, utility):
    citizen(agency_a, wa_id="15125550100"), citizen(agency_a, wa_id="15125550101")
    c = csv_campaign(
        number, utility, "phone,first_name,permit\n+15125550100,Ana,\n+15125550101,Ben,P-2\n"
    )
    with agency_scope(agency_a):
        assert [r.skip_reason for r in resolve(c)] == [SkipReason.MISSING_VARIABLE, ""]


def test_the_preview_shows_real_recipients_with_their_csv_values(agency_a, number, utility):
    citizen(agency_a, wa_id="15125550100"), citizen(agency_a, wa_id="15125550101")
    c = csv_campaign(
        number, utility, "phone,first_name,permit\n+15125550100,,P-1\n+15125550101,Ben,P-2\n"
    )
    (preview,) = preview_recipients(c)  # the first row lacks a value: not previewed
    assert (preview.wa_id, preview.values) == ("15125550101", {"var_1": "Ben", "var_2": "P-2"})
    body = "".join(segment.text for segment in preview.preview.body)
    assert body == "Hello Ben, your permit P-2 is ready."


def test_the_message_sent_carries_the_csv_values(agency_a, number, utility):
    citizen(agency_a, wa_id="15125550100")
    c = started(csv_campaign(number, utility, "phone,first_name,permit\n+15125550100,Ana,P-1\n"))
    from messaging.models import Message

    with agency_scope(agency_a):
        message = Message.objects.get(campaign_id=c.pk)
    body = message.content["template"]["components"][0]["parameters"]
    assert [p["text"] for p in body] == ["Ana", "P-1"]


def test_every_problem_row_of_the_file_is_in_the_campaign_with_its_reason(
    agency_a, number, utility
):
    citizen(agency_a, wa_id="15125550100")
    c = csv_campaign(
        number,
        utility,
        "phone,first_name,permit\n+15125550100,Ana,P-1\n+15125550100,Ana,P-1\n12,X,P\n"
        "+15125550199,Stranger,P-9\n",
    )
    with agency_scope(agency_a):
        found = resolve(c)
    assert [(r.row_number, r.skip_reason) for r in found] == [
        (2, ""),
        (3, SkipReason.DUPLICATE),
        (4, SkipReason.INVALID_NUMBER),
        (5, SkipReason.NO_OPT_IN),  # not a contact: nobody opted in
    ]
