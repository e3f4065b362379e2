"""Recipients are WhatsApp ids, valid by WhatsApp's rules (digits, a known country calling
code, a plausible length), not only numbers a dialler accepts (cloud-api.md §10)."""

from __future__ import annotations

import pytest

from messaging import wa_ids
from messaging.policy import normalize_recipient

MEXICAN_WA_ID = "5215512345678"  # 521 + 10 digits: how WhatsApp reports a Mexican mobile


@pytest.mark.parametrize(
    "wa_id",
    [MEXICAN_WA_ID, "525512345678", "5491123456789", "14155550100", "447700900123", "2901234"],
)
def test_whatsapp_ids_of_real_shapes_are_valid(wa_id):
    assert wa_ids.is_wa_id(wa_id)


@pytest.mark.parametrize(
    "wa_id",
    [
        "12",  # too short for any country
        "15550100",  # +1 needs ten national digits
        "999123456",  # 999 is no country calling code
        "0014155550100",  # an international prefix, not a wa_id
        "1415555010012345",  # longer than E.164 allows
        "1415555O100",  # not digits
    ],
)
def test_ids_that_cannot_be_whatsapp_users_are_not(wa_id):
    assert not wa_ids.is_wa_id(wa_id)


def test_a_mexican_521_wa_id_is_a_recipient_as_it_is():
    assert normalize_recipient(MEXICAN_WA_ID) == MEXICAN_WA_ID


def test_a_dialable_number_is_still_reduced_to_its_digits():
    assert normalize_recipient("+1 (415) 555-0100") == "14155550100"
