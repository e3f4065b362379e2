"""WhatsApp ids (wa_ids): what a recipient is, by WhatsApp's rules rather than a dialler's.

A wa_id is the digits of the user's number as *WhatsApp* knows it, which is not always a
number ``phonenumbers.is_valid_number`` accepts: Mexican mobiles are reported as ``521`` + 10
digits (the "1" Mexico dropped from dialling in 2019), Argentine ones as ``549…``
(cloud-api.md §8, §10). So a recipient is valid when it is digits only, starts with a known
country calling code, and its national part has a plausible length for that code (the
lengths libphonenumber knows, plus one for those mobile prefixes).

Meta answers every send with the canonical wa_id (``contacts[].wa_id``); when it differs
from the id we sent to, ``adopt_canonical_wa_ids`` keeps Meta's form on the contact, so the
citizen's next message (``from`` is the canonical form) lands on the same contact.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import cache

import phonenumbers
from django.db import IntegrityError, transaction

from messaging.models import Contact
from records.audit import Actor, record_event
from tenants.models import Agency, PhoneNumber

logger = logging.getLogger(__name__)

MAX_DIGITS = 15  # E.164
# What people put between digits when they write a number.
_FORMATTING = re.compile(r"[\s()+\-./]")
ACTOR = Actor.system("delivery")


@cache
def _national_lengths(calling_code: int) -> tuple[int, int] | None:
    """(shortest, longest) national significant number for a calling code, or None when
    the code is not assigned."""
    if calling_code not in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
        return None
    # The code's main region (US for +1): its lengths, not the union of every territory's
    # local-only oddities (Canada lists 7-digit service numbers).
    region = phonenumbers.region_code_for_country_code(calling_code)
    if region in (phonenumbers.UNKNOWN_REGION, "001"):
        metadata = phonenumbers.PhoneMetadata.metadata_for_nongeo_region(calling_code)
    else:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None:
        return None
    lengths = [n for n in metadata.general_desc.possible_length if n > 0]
    if not lengths:
        return None
    # +1: a mobile prefix WhatsApp keeps (MX 521…, AR 549…) makes the national part longer.
    return min(lengths), max(lengths) + 1


def is_wa_id(digits: str) -> bool:
    """Digits only, a known country calling code, a plausible length for it."""
    if not digits.isdigit() or len(digits) > MAX_DIGITS or digits.startswith("0"):
        return False
    for size in (1, 2, 3):
        lengths = _national_lengths(int(digits[:size]))
        if lengths is not None:
            shortest, longest = lengths
            return shortest <= len(digits) - size <= longest
    return False


def adopt_canonical_wa_ids(agency_id: int, answered: Iterable[tuple[int, str, str]]) -> None:
    """For each ``(contact id, wa_id we sent to, wa_id Meta answered)``: keep Meta's form on
    the contact. If another contact of the agency already has that form (the citizen wrote
    in before we ever sent to the dialled form), the two stay apart and it is logged:
    merging contacts is a decision for staff, not a side effect of a send."""
    for contact_id, sent_to, canonical in answered:
        if not canonical or canonical == sent_to or not is_wa_id(canonical):
            continue
        try:
            with transaction.atomic():
                changed = Contact.objects.filter(
                    pk=contact_id, agency_id=agency_id, wa_id=sent_to
                ).update(wa_id=canonical)
                if changed:
                    record_event(
                        agency_id=agency_id,
                        actor=ACTOR,
                        action="contact.wa_id_canonicalised",
                        object_type="messaging.contact",
                        object_id=str(contact_id),
                        changes={"wa_id": [sent_to, canonical]},
                    )
        except IntegrityError:
            logger.info(
                "contact %s: Meta's wa_id is already another contact's; kept apart", contact_id
            )


# --- numbers as people write them (CSV lists, the hosted opt-in page) ------------------


def default_region(agency: Agency) -> str:
    """The region national numbers are read in: the country of the agency's first number."""
    number = PhoneNumber.objects.filter(agency=agency).order_by("pk").first()
    if number is not None:
        try:
            parsed = phonenumbers.parse(number.display_phone_number, None)
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is not None:
            region = phonenumbers.region_code_for_number(parsed)
            if region and region != phonenumbers.UNKNOWN_REGION:
                return str(region)
    return "US"


def to_wa_id(phone: str, region: str) -> str | None:
    """The WhatsApp id of a number as people write it, or None. A national number is read
    in ``region``; an international one (``+``, ``00``) as such; what libphonenumber rejects
    may still be a wa_id by WhatsApp's rules (Mexico's ``521…``) when written with its
    country code."""
    text = phone.strip()
    if not text or len(text) > 40:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        parsed = None
    # Valid in the agency's own region first (most lists): it skips libphonenumber's search
    # for the number's region, a third of the preview's time.
    if parsed is not None and (
        phonenumbers.is_valid_number_for_region(parsed, region)
        or phonenumbers.is_valid_number(parsed)
    ):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)[1:]
    digits = _FORMATTING.sub("", text)
    if text.startswith("+") and is_wa_id(digits):
        return digits
    return None
