"""bsp.sensitive_data: SSNs, ITINs and card numbers by their real rules, and masking."""

from __future__ import annotations

from bsp.sensitive_data import CARD, ITIN, SSN, find_sensitive, luhn_ok, mask


def kinds(text: str) -> list[str]:
    return [m.kind for m in find_sensitive(text)]


def test_an_ssn_with_dashes_is_found_where_it_is():
    text = "Your SSN 123-45-6789 is on file."
    [match] = find_sensitive(text)
    assert (match.kind, text[match.start : match.end]) == (SSN, "123-45-6789")


def test_an_ssn_with_spaces_or_without_separators_is_found():
    assert kinds("123 45 6789") == [SSN]
    assert kinds("SSN 123456789") == [SSN]


def test_ssn_areas_000_666_and_900s_are_not_ssns():
    assert kinds("000-12-3456 666-12-3456 912-12-3456") == []


def test_an_ssn_group_00_or_serial_0000_is_not_an_ssn():
    assert kinds("123-00-4567 123-45-0000") == []


def test_the_voided_advertising_ssns_are_not_flagged():
    assert kinds("078-05-1120") == []


def test_mixed_separators_are_not_an_ssn():
    assert kinds("123-45 6789") == []


def test_a_longer_digit_run_is_not_an_ssn():
    assert kinds("order 1234567890123 ref 12-123-45-6789-1") == []


def test_a_phone_number_and_a_zip_plus_four_are_not_ssns():
    assert kinds("Call 555-010-0100 or write to 62701-1234.") == []


def test_an_itin_is_found_with_its_irs_group_ranges():
    assert kinds("ITIN 912-70-1234") == [ITIN]
    assert kinds("912-45-1234") == []  # group 45 is not an ITIN range


def test_a_visa_number_passing_luhn_is_a_card():
    assert kinds("card 4111 1111 1111 1111 expires") == [CARD]


def test_mastercard_2_series_and_amex_are_cards():
    assert kinds("2221000000000009") == [CARD]
    assert kinds("3782 822463 10005") == [CARD]


def test_a_number_failing_luhn_is_not_a_card():
    assert not luhn_ok("4111111111111112")
    assert kinds("4111 1111 1111 1112") == []


def test_a_luhn_valid_number_outside_issuer_ranges_is_not_a_card():
    assert luhn_ok("1234567812345670")
    assert kinds("1234567812345670") == []


def test_masking_hides_the_digits_and_keeps_the_shape():
    assert mask("SSN 123-45-6789, card 4111-1111-1111-1111.") == (
        "SSN ***-**-****, card ****-****-****-****."
    )


def test_masking_can_keep_the_last_digits():
    assert mask("4111111111111111", keep_last=4) == "************1111"


def test_text_without_personal_data_is_unchanged():
    text = "Permit 2024-118 is ready; call 217-555-0100."
    assert mask(text) == text
