"""bsp.sensitive_data for DLP (issue 12 §8): each detector one by one, with real valid and
invalid numbers, the agency's custom rules (and the patterns they refuse), PHI hints.

The template pre-screen's cases live in tests/templates_mgr/test_sensitive_data.py."""

from __future__ import annotations

import time

import pytest

from bsp.sensitive_data import (
    CARD,
    CUSTOM,
    ITIN,
    PHI_HINT,
    ROUTING,
    SSN,
    UnsafePattern,
    aba_ok,
    card_issuer,
    check_pattern,
    compile_rule,
    find_sensitive,
    luhn_ok,
    mask,
    phi_hints,
    ssn_ok,
)


def kinds(text: str, **kwargs) -> list[str]:
    return [m.kind for m in find_sensitive(text, **kwargs)]


def with_check_digit(partial: str) -> str:
    """``partial`` plus the digit that makes it pass Luhn."""
    return next(partial + d for d in "0123456789" if luhn_ok(partial + d))


# --- SSN ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("ssn", ["536-22-1234", "001-01-0001", "665-99-9999", "899 12 3456"])
def test_ssns_in_the_issued_ranges_are_found(ssn):
    assert kinds(f"my number is {ssn}") == [SSN]


@pytest.mark.parametrize(
    ("ssn", "why"),
    [
        ("000-12-3456", "area 000"),
        ("666-12-3456", "area 666"),
        ("900-12-3456", "area 900"),
        ("987-65-4321", "area 9xx (the SSA's advertising block 987-65-4320..4329)"),
        ("999-12-3456", "area 999"),
        ("536-00-1234", "group 00"),
        ("536-22-0000", "serial 0000"),
        ("078-05-1120", "the wallet-insert number"),
        ("219-09-9999", "the SSA pamphlet number"),
        ("457-55-5462", "the number published in an advertising campaign"),
        ("111-11-1111", "one digit nine times"),
    ],
)
def test_numbers_that_cannot_be_ssns_are_not_flagged(ssn, why):
    assert kinds(f"SSN {ssn}") == [], why
    assert not ssn_ok(ssn.replace("-", ""))


def test_an_ssn_scores_higher_next_to_its_context_words():
    [bare] = find_sensitive("ref 536-22-1234")
    [named] = find_sensitive("my social security number is 536-22-1234")
    [spanish] = find_sensitive("mi número de seguro social: 536-22-1234")
    assert bare.score < named.score == spanish.score == 1.0


def test_an_itin_is_told_from_an_ssn():
    assert kinds("ITIN 912-78-1234") == [ITIN]
    assert kinds("912-45-1234") == []


# --- payment cards ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "issuer"),
    [
        ("4111 1111 1111 1111", "visa"),
        ("4012888888881881", "visa"),
        ("4222222222222", "visa"),  # 13 digits
        ("5555-5555-5555-4444", "mastercard"),
        ("5105105105105100", "mastercard"),
        ("2223 0031 2200 3222", "mastercard"),  # the 2-series Presidio's regex misses
        (with_check_digit("222100000000000"), "mastercard"),  # first of 2221-2720
        (with_check_digit("272099999999999"), "mastercard"),  # last of 2221-2720
        ("378282246310005", "amex"),
        ("3714 496353 98431", "amex"),
        ("6011111111111117", "discover"),
        ("6011000990139424", "discover"),
        (with_check_digit("644000000000000"), "discover"),
        (with_check_digit("659999999999999"), "discover"),
        ("3530111333300000", "jcb"),
        ("3566002020360505", "jcb"),
        ("30569309025904", "diners"),
        ("38520000023237", "diners"),
        ("6200000000000005", "unionpay"),
        (with_check_digit("220000000000000"), "mir"),
        ("6759649826438453", "maestro"),
    ],
)
def test_card_numbers_of_every_major_issuer_are_found(number, issuer):
    digits = number.replace(" ", "").replace("-", "")
    assert card_issuer(digits) == issuer
    assert kinds(f"card: {number} thanks") == [CARD]


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("4111111111111112", "fails Luhn"),
        ("5555555555554445", "fails Luhn"),
        (with_check_digit("222000000000000"), "2220 is below Mastercard's 2-series"),
        (with_check_digit("272100000000000"), "2721 is above Mastercard's 2-series"),
        (with_check_digit("56000000000000"), "Mastercard number of the wrong length (15)"),
        (with_check_digit("1234567812345"), "no issuer starts with 1"),
        ("0000000000000000", "one digit sixteen times"),
    ],
)
def test_numbers_that_are_not_cards_are_not_flagged(number, why):
    assert kinds(number) == [], why


# --- bank routing numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "routing",
    ["021000021", "011000015", "121000358", "026009593", "322271627", "091000019", "121000248"],
)
def test_real_routing_numbers_are_found_next_to_a_context_word(routing):
    assert aba_ok(routing)
    assert kinds(f"Bank routing number {routing}, account 12345") == [ROUTING]
    assert kinds(f"ABA: {routing}") == [ROUTING]
    assert kinds(f"número de ruta {routing}") == [ROUTING]


def test_a_routing_number_without_context_is_not_flagged_as_one():
    assert kinds("order 021000021 shipped") == []  # group 00: not an SSN either


def test_a_routing_context_wins_over_reading_the_digits_as_an_ssn():
    assert kinds("ref 322271627") == [SSN]  # 322-27-1627 is a valid SSN shape
    assert kinds("direct deposit routing 322271627") == [ROUTING]


@pytest.mark.parametrize(
    ("digits", "why"),
    [
        ("021000022", "checksum"),
        ("123456789", "checksum"),
        ("131000021", "13 is not a Federal Reserve routing symbol"),
        ("02100002", "eight digits"),
    ],
)
def test_numbers_failing_the_routing_rules_are_not_flagged(digits, why):
    assert not aba_ok(digits), why
    assert ROUTING not in kinds(f"routing number {digits}")


def test_a_routing_number_is_masked_like_the_others():
    assert mask("routing 021000021") == "routing *********"


# --- custom rules -------------------------------------------------------------------------------


def test_a_custom_pattern_finds_the_agencys_case_numbers():
    rule = compile_rule("Case number", pattern=r"CASE-\d{4}-\d{6}")
    text = "About case-2026-001234 and SSN 536-22-1234"
    found = find_sensitive(text, rules=[rule])
    assert [(m.kind, m.rule, text[m.start : m.end]) for m in found] == [
        (CUSTOM, "Case number", "case-2026-001234"),
        (SSN, "", "536-22-1234"),
    ]
    assert found[0].label == "text matching the rule “Case number”"


def test_keywords_match_whole_words_in_any_case():
    rule = compile_rule("Informant", keywords=["confidential informant", "CI#"])
    assert kinds("the Confidential Informant said", rules=[rule]) == [CUSTOM]
    assert kinds("confidential informants", rules=[rule]) == []  # not the whole word
    assert mask("ask the confidential informant", rules=[rule]) == (
        "ask the ************ *********"
    )


def test_a_validated_number_wins_over_a_custom_rule_on_the_same_text():
    rule = compile_rule("Nine digits", pattern=r"\d{3}-\d{2}-\d{4}")
    assert kinds("536-22-1234", rules=[rule]) == [SSN]


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a+)+$", "another repetition"),
        (r"(\d+)*x", "another repetition"),
        (r"(a|aa)*$", "alternatives"),
        (r"(\w+\s?)+$", "another repetition"),
        (r"(a)\1", "Backreferences"),
        (r"[unclosed", "not a valid regular expression"),
        (r"\d*", "matches empty text"),
        ("a" * 201, "at most 200"),
    ],
)
def test_unsafe_or_broken_patterns_are_refused_with_a_reason(pattern, reason):
    with pytest.raises(UnsafePattern, match=reason):
        check_pattern(pattern)
    with pytest.raises(UnsafePattern):
        compile_rule("bad", pattern=pattern)


def test_the_refused_redos_pattern_really_is_catastrophic_with_plain_re():
    """The refusal above is about a real cost: ``(a+)+$`` backtracks exponentially."""
    import re

    started = time.perf_counter()
    assert re.match(r"(a+)+$", "a" * 22 + "!") is None
    assert time.perf_counter() - started > 0.05


def test_safe_patterns_with_bounded_repeats_in_groups_are_accepted():
    for pattern in (r"(?:\d{3}-){2}\d{4}", r"[A-Z]{2}\d{6}", r"(?:case|file) no\. \d+"):
        check_pattern(pattern)


def test_a_custom_match_is_time_limited_where_the_regex_module_is_installed():
    pytest.importorskip("regex")
    rule = compile_rule("Code", pattern=r"ZX\d{4}")
    assert rule.uses_timeout
    started = time.perf_counter()
    assert rule.spans("x" * 200_000 + " ZX1234") == [(200_001, 200_007)]
    assert time.perf_counter() - started < 1.0


# --- PHI hints ----------------------------------------------------------------------------------


def test_phi_hints_name_medical_record_numbers_codes_and_health_words():
    text = "MRN: 00123456, diagnosis E11.9, taking metformin"
    hints = phi_hints(text)
    assert [(h.rule, text[h.start : h.end]) for h in hints] == [
        ("mrn", "00123456"),
        ("icd10", "E11.9"),
        ("health_term", "metformin"),
    ]
    assert all(h.kind == PHI_HINT and h.score < 1 for h in hints)


def test_phi_hints_are_never_sensitive_data_matches():
    assert kinds("diagnosed with diabetes, MRN 00123456") == []


def test_an_icd_shaped_word_without_health_context_is_no_hint():
    assert phi_hints("Flight E11 leaves at 9") == []


def test_spanish_health_words_are_hints():
    assert [h.rule for h in phi_hints("estoy embarazada y tengo diabetes")] == [
        "health_term",
        "health_term",
    ]
