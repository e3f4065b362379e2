"""Finding personal data in free text: US Social Security numbers, ITINs and payment card
numbers. Reusable wherever text may carry them (the template pre-screen refuses them in a
template; records redaction masks them).

Cheap, explainable rules rather than guesses, so a match is worth acting on:

- **SSN** ``AAA-GG-SSSS`` (dashes, spaces or none, used consistently): area not 000, 666 or
  900-999; group not 00; serial not 0000; the numbers the SSA voided after they were
  printed in advertising (078-05-1120, 219-09-9999) excluded.
- **ITIN** ``9AA-GG-SSSS`` with a separator: area 9xx and group 50-65, 70-88, 90-92 or
  94-99 (the IRS's ranges); the SSN rule above never matches these.
- **Card** 13-19 digits, optionally grouped by spaces or dashes, passing the Luhn check and
  starting with an issuer's range (Visa, Mastercard incl. 2221-2720, American Express,
  Discover, JCB, Diners Club, UnionPay) at a length that issuer uses.

A digit run that continues past the pattern (a longer number) is not a match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SSN = "ssn"
ITIN = "itin"
CARD = "card_number"
KIND_LABELS = {
    SSN: "a US Social Security number",
    ITIN: "a US taxpayer identification number (ITIN)",
    CARD: "a payment card number",
}

_SSN = re.compile(r"(?<![\d-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\d-])")
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_VOIDED_SSNS = frozenset({"078051120", "219099999"})
_ITIN_GROUPS = frozenset([*range(50, 66), *range(70, 89), *range(90, 93), *range(94, 100)])


@dataclass(frozen=True)
class Match:
    kind: str
    start: int
    end: int

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


def find_sensitive(text: str) -> list[Match]:
    """Every SSN, ITIN and card number in ``text``, in order, never overlapping."""
    if not text:
        return []
    found: list[Match] = []
    for match in _SSN.finditer(text):
        kind = _ssn_kind(match)
        if kind:
            found.append(Match(kind, match.start(), match.end()))
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if _looks_like_card(digits) and not _overlaps(found, match.start(), match.end()):
            found.append(Match(CARD, match.start(), match.end()))
    return sorted(found, key=lambda m: m.start)


def mask(text: str, *, keep_last: int = 0, char: str = "*") -> str:
    """``text`` with the digits of every match replaced by ``char`` (separators kept, so the
    shape stays readable); ``keep_last`` digits of each may stay visible."""
    matches = find_sensitive(text)
    if not matches:
        return text
    parts: list[str] = []
    position = 0
    for match in matches:
        parts.append(text[position : match.start])
        parts.append(_mask_digits(text[match.start : match.end], keep_last, char))
        position = match.end
    parts.append(text[position:])
    return "".join(parts)


def _mask_digits(value: str, keep_last: int, char: str) -> str:
    total = sum(c.isdigit() for c in value)
    seen = 0
    out = []
    for c in value:
        if c.isdigit():
            seen += 1
            out.append(c if seen > total - keep_last else char)
        else:
            out.append(c)
    return "".join(out)


def _overlaps(found: list[Match], start: int, end: int) -> bool:
    return any(m.start < end and start < m.end for m in found)


def _ssn_kind(match: re.Match[str]) -> str | None:
    area, separator, group, serial = match.group(1), match.group(2), match.group(3), match.group(4)
    if area[0] == "9":
        if separator and int(group) in _ITIN_GROUPS:
            return ITIN
        return None
    if area in ("000", "666") or group == "00" or serial == "0000":
        return None
    if f"{area}{group}{serial}" in _VOIDED_SSNS:
        return None
    return SSN


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char)
        if i % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _issuer_accepts(digits: str) -> bool:
    length = len(digits)

    def prefix(n: int) -> int:
        return int(digits[:n])

    if digits[0] == "4":  # Visa
        return length in (13, 16, 19)
    if 51 <= prefix(2) <= 55 or 2221 <= prefix(4) <= 2720:  # Mastercard
        return length == 16
    if prefix(2) in (34, 37):  # American Express
        return length == 15
    if prefix(4) == 6011 or 644 <= prefix(3) <= 649 or prefix(2) == 65:  # Discover
        return 16 <= length <= 19
    if 3528 <= prefix(4) <= 3589:  # JCB
        return 16 <= length <= 19
    if 300 <= prefix(3) <= 305 or prefix(2) in (36, 38, 39):  # Diners Club
        return 14 <= length <= 19
    if prefix(2) == 62:  # UnionPay
        return 16 <= length <= 19
    return False


def _looks_like_card(digits: str) -> bool:
    if not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
        return False
    return _issuer_accepts(digits) and luhn_ok(digits)
