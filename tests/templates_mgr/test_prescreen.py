"""The content pre-screen: policy words by whole words after normalising, the agency's banned
terms, personal data with masked excerpts; and no false positives on innocent words."""

from __future__ import annotations

from templates_mgr import prescreen as ps
from templates_mgr import services
from templates_mgr.prescreen import Finding, prescreen
from tests.templates_mgr.factories import url_button, utility_draft, with_buttons


def categories(text: str, **draft: str) -> list[str]:
    return [f.category for f in prescreen(utility_draft(body_text=text, body_examples=[], **draft))]


def test_a_lottery_promotion_is_flagged_with_its_field_and_excerpt():
    [finding] = prescreen(utility_draft(body_text="Buy a lottery ticket at the fair today."))
    assert finding == Finding(
        "body.text",
        ps.LOTTERY_GAMBLING,
        finding.message,
        "Buy a lottery ticket at the fair today.",
    )
    assert "lottery" in finding.message


def test_gambling_weapons_adult_and_drug_words_are_each_flagged():
    assert categories("Visit the casino tonight for fun.") == [ps.LOTTERY_GAMBLING]
    assert categories("Bring your firearm to the range.") == [ps.WEAPONS]
    assert categories("See our nude calendar this week.") == [ps.ADULT]
    assert categories("Fentanyl kills; call the hotline.") == [ps.DRUGS]


def test_case_accents_and_light_leetspeak_do_not_hide_a_word():
    assert categories("Win the L0TT3RY now") == [ps.LOTTERY_GAMBLING]
    assert categories("Le cásino abre hoy") == [ps.LOTTERY_GAMBLING]


def test_plurals_and_phrases_match():
    assert categories("Guns are not allowed in the building") == [ps.WEAPONS]
    assert categories("No slot machines on county land") == [ps.LOTTERY_GAMBLING]


def test_words_that_merely_contain_a_term_are_not_flagged():
    # Scunthorpe, "method" (meth), "begun" (gun), "Essex", "ammonia" (ammo).
    assert categories("Scunthorpe office: method to begin, begun in Essex with ammonia.") == []


def test_a_number_is_not_read_as_leetspeak():
    assert categories("Fees went from 1000 to 5000 dollars.") == []


def test_the_name_and_button_texts_are_screened_too():
    draft = with_buttons(
        utility_draft(name="free_lottery_tickets"), url_button(url="https://city.gov/casino/{{1}}")
    )
    found = {(f.field, f.category) for f in prescreen(draft)}
    assert ("name", ps.LOTTERY_GAMBLING) in found
    assert ("buttons.0.url", ps.LOTTERY_GAMBLING) in found


def test_personal_data_in_a_sample_is_flagged_with_a_masked_excerpt():
    draft = utility_draft(body_examples=["Ana", "123-45-6789"])
    [finding] = prescreen(draft)
    assert (finding.field, finding.category) == ("body.example", ps.SENSITIVE_DATA)
    assert "6789" not in finding.excerpt and "***-**-****" in finding.excerpt
    assert "Social Security number" in finding.message


def test_a_card_number_in_the_body_is_flagged():
    text = "Pay with card 4111 1111 1111 1111 by Friday please."
    assert categories(text) == [ps.SENSITIVE_DATA]


def test_an_excerpt_cut_through_a_number_shows_none_of_its_digits():
    text = "x" * 40 + " lottery " + "4111 1111 1111 1111"
    finding = next(
        f for f in prescreen(utility_draft(body_text=text)) if f.category != "sensitive_data"
    )
    assert "1111" not in finding.excerpt


def test_a_clean_template_has_no_findings():
    assert prescreen(utility_draft()) == []


# ---- the agency's banned terms (tenant data) -------------------------------------------------


def test_an_agency_banned_term_is_flagged_for_that_agency_only(agency_a, agency_b, admin_actor):
    services.add_banned_term(actor=admin_actor, agency=agency_a, term="free parking")
    draft = utility_draft(body_text="Enjoy FREE parking downtown this weekend, everyone.")
    [finding] = prescreen(draft, agency_a)
    assert finding.category == ps.BANNED_TERM
    assert "free parking" in finding.message
    assert prescreen(draft, agency_b) == []
