"""Finding personal data in free text: US Social Security numbers, ITINs, payment card
numbers, bank routing numbers, an agency's own patterns and keywords, and (as hints only)
health information. Reusable wherever text may carry them (the template pre-screen refuses
them in a template; records redaction masks them; DLP flags them on messages).

Cheap, explainable rules rather than guesses, so a match is worth acting on:

- **SSN** ``AAA-GG-SSSS`` (dashes, spaces or none, used consistently): area not 000, 666 or
  900-999; group not 00; serial not 0000; not nine times the same digit; the numbers voided
  after they were printed in advertising or misused en masse (078-05-1120 from a wallet
  insert, 219-09-9999 from an SSA pamphlet, 457-55-5462 published in an advertising
  campaign) excluded. No pre-2011 "high group" or state-area check: the SSA randomised
  assignment on 25 June 2011. A nearby "SSN"/"social security" raises the score.
- **ITIN** ``9AA-GG-SSSS`` with a separator: area 9xx and group 50-65, 70-88, 90-92 or
  94-99 (the IRS's ranges); the SSN rule above never matches these.
- **Card** 13-19 digits, optionally grouped by spaces or dashes, passing the Luhn check and
  starting with an issuer's range (Visa, Mastercard incl. 2221-2720, American Express,
  Discover, JCB, Diners Club, UnionPay, Maestro, Mir) at a length that issuer uses.
- **Bank routing number (ABA)** nine digits whose first two are a Federal Reserve routing
  symbol (00-12, 21-32, 61-72, 80) and that pass the 3-7-1 checksum, *and* a context word
  (routing, ABA, bank, direct deposit…) within ``CONTEXT_WINDOW`` characters before it:
  one in ten random nine-digit numbers passes the checksum, so the digits alone prove
  nothing. With that context it wins over an undelimited SSN reading of the same digits.
- **Custom rules** (``compile_rule``): an agency's regex or keyword list. Regexes are
  checked before they are accepted (``check_pattern``): short, no backreferences, and no
  quantifier over a group that itself repeats or alternates (the shapes behind catastrophic
  backtracking, e.g. ``(a+)+$``); where the ``regex`` module is installed a match also has a
  time limit.
- **PHI hints** (``phi_hints``, never from ``find_sensitive``): medical record numbers next
  to "MRN"/"medical record", ICD-10 codes next to "ICD"/"diagnosis", and a short list of
  diagnosis and medication words (English and Spanish). Hints for a reviewer, never a
  reason to block.

A digit run that continues past the pattern (a longer number) is not a match.
"""

from __future__ import annotations

import re
import re._constants as sre_constants  # type: ignore[import-not-found]  # stdlib opcodes
import re._parser as sre_parse  # type: ignore[import-not-found]  # stdlib, untyped
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

SSN = "ssn"
ITIN = "itin"
CARD = "card_number"
ROUTING = "bank_routing_number"
CUSTOM = "custom"
PHI_HINT = "phi_hint"
KIND_LABELS = {
    SSN: "a US Social Security number",
    ITIN: "a US taxpayer identification number (ITIN)",
    CARD: "a payment card number",
    ROUTING: "a bank routing number",
    CUSTOM: "text matching one of the agency's sensitive-data rules",
    PHI_HINT: "possible health information",
}
# Characters before a number searched for its context words (Purview's proximity window
# idea, smaller: a chat message is short).
CONTEXT_WINDOW = 50
# Longest custom pattern accepted, and the time one custom match may take (``regex`` only).
MAX_PATTERN_LENGTH = 200
MATCH_TIMEOUT_SECONDS = 0.05

_SSN = re.compile(r"(?<![\d-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\d-])")
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){11,18}(?![\d-])")
_NINE_DIGITS = re.compile(r"(?<![\d-])\d{9}(?![\d-])")
_VOIDED_SSNS = frozenset({"078051120", "219099999", "457555462"})
_ITIN_GROUPS = frozenset([*range(50, 66), *range(70, 89), *range(90, 93), *range(94, 100)])
_SSN_CONTEXT = re.compile(
    r"\b(ssn|ss#|social\s+security|soc\.?\s*sec|seguro\s+social|n[uú]mero\s+de\s+seguro)",
    re.IGNORECASE,
)
_ROUTING_CONTEXT = re.compile(
    r"\b(routing|aba|rtn|transit|ach|direct\s+deposit|bank|banco|ruta|"
    r"n[uú]mero\s+de\s+ruta|wire)",
    re.IGNORECASE,
)
# Federal Reserve routing symbols (first two digits): 00 government, 01-12 regular banks,
# 21-32 thrifts, 61-72 electronic, 80 traveller's cheques.
_ROUTING_PREFIXES = frozenset([*range(0, 13), *range(21, 33), *range(61, 73), 80])


@dataclass(frozen=True)
class Match:
    kind: str
    start: int
    end: int
    score: float = 1.0  # how sure: 1 = validated and in context
    rule: str = ""  # a custom rule's or a PHI hint's name

    @property
    def label(self) -> str:
        if self.kind == CUSTOM and self.rule:
            return f"text matching the rule “{self.rule}”"
        return KIND_LABELS[self.kind]


def find_sensitive(text: str, *, rules: Sequence[CustomRule] = ()) -> list[Match]:
    """Every SSN, ITIN, card and routing number in ``text`` (and every match of ``rules``),
    in order, never overlapping: a validated number wins over a custom rule's match."""
    if not text:
        return []
    found = _routing_numbers(text)
    for match in _SSN.finditer(text):
        kind = _ssn_kind(match)
        if kind and not _overlaps(found, match.start(), match.end()):
            score = 1.0 if _has_context(text, match.start(), _SSN_CONTEXT) else 0.85
            found.append(Match(kind, match.start(), match.end(), score))
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if _looks_like_card(digits) and not _overlaps(found, match.start(), match.end()):
            found.append(Match(CARD, match.start(), match.end()))
    for rule in rules:
        for start, end in rule.spans(text):
            if not _overlaps(found, start, end):
                found.append(Match(CUSTOM, start, end, 1.0, rule.name))
    return sorted(found, key=lambda m: m.start)


def mask(
    text: str, *, keep_last: int = 0, char: str = "*", rules: Sequence[CustomRule] = ()
) -> str:
    """``text`` with the digits of every match replaced by ``char`` (separators kept, so the
    shape stays readable); ``keep_last`` digits of each may stay visible. A custom rule's
    match has every letter and digit masked."""
    matches = find_sensitive(text, rules=rules)
    if not matches:
        return text
    parts: list[str] = []
    position = 0
    for match in matches:
        parts.append(text[position : match.start])
        value = text[match.start : match.end]
        if match.kind == CUSTOM:
            parts.append(re.sub(r"\w", char, value))
        else:
            parts.append(_mask_digits(value, keep_last, char))
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


def _overlaps(found: Iterable[Match], start: int, end: int) -> bool:
    return any(m.start < end and start < m.end for m in found)


def _has_context(text: str, start: int, words: re.Pattern[str]) -> bool:
    return words.search(text, max(0, start - CONTEXT_WINDOW), start) is not None


# --- SSN and ITIN -------------------------------------------------------------------------------


def _ssn_kind(match: re.Match[str]) -> str | None:
    area, separator, group, serial = match.group(1), match.group(2), match.group(3), match.group(4)
    if area[0] == "9":
        # 987-65-4320..4329 are reserved for advertising (group 65 is also an ITIN group).
        advertised = f"{area}{group}{serial}".startswith("98765432")
        if separator and int(group) in _ITIN_GROUPS and not advertised:
            return ITIN
        return None
    return SSN if ssn_ok(f"{area}{group}{serial}") else None


def ssn_ok(digits: str) -> bool:
    """Whether nine digits can be an issued SSN (the rules in the module docstring)."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return len(set(digits)) > 1 and digits not in _VOIDED_SSNS


# --- cards --------------------------------------------------------------------------------------


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


def card_issuer(digits: str) -> str | None:
    """The issuer whose range and length ``digits`` fit (the Luhn check is separate)."""
    length = len(digits)

    def prefix(n: int) -> int:
        return int(digits[:n])

    issuers: list[tuple[str, bool, bool]] = [
        ("visa", digits[0] == "4", length in (13, 16, 19)),
        ("mastercard", 51 <= prefix(2) <= 55 or 2221 <= prefix(4) <= 2720, length == 16),
        ("amex", prefix(2) in (34, 37), length == 15),
        (
            "discover",
            prefix(4) == 6011 or 644 <= prefix(3) <= 649 or prefix(2) == 65,
            16 <= length <= 19,
        ),
        ("jcb", 3528 <= prefix(4) <= 3589, 16 <= length <= 19),
        ("diners", 300 <= prefix(3) <= 305 or prefix(2) in (36, 38, 39), 14 <= length <= 19),
        ("unionpay", prefix(2) == 62, 16 <= length <= 19),
        ("mir", 2200 <= prefix(4) <= 2204, 16 <= length <= 19),
        (
            "maestro",
            prefix(4) in (5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763),
            12 <= length <= 19,
        ),
    ]
    return next((name for name, in_range, ok_length in issuers if in_range and ok_length), None)


def _looks_like_card(digits: str) -> bool:
    if not 12 <= len(digits) <= 19 or len(set(digits)) == 1:
        return False
    return card_issuer(digits) is not None and luhn_ok(digits)


# --- bank routing numbers -----------------------------------------------------------------------


def aba_ok(digits: str) -> bool:
    """An ABA routing number's prefix and 3-7-1 checksum."""
    if len(digits) != 9 or not digits.isdigit() or int(digits[:2]) not in _ROUTING_PREFIXES:
        return False
    weights = (3, 7, 1) * 3
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 10 == 0


def _routing_numbers(text: str) -> list[Match]:
    return [
        Match(ROUTING, m.start(), m.end())
        for m in _NINE_DIGITS.finditer(text)
        if aba_ok(m.group(0)) and _has_context(text, m.start(), _ROUTING_CONTEXT)
    ]


# --- custom rules -------------------------------------------------------------------------------


class UnsafePattern(ValueError):
    """A custom pattern that is refused; the message says why, for the admin who wrote it."""


@dataclass(frozen=True)
class CustomRule:
    """An agency's rule, compiled: a regex, or keywords matched as whole words (any case)."""

    name: str
    regex: Any  # re.Pattern, or regex.Pattern when that module is installed
    uses_timeout: bool = False
    keywords: tuple[str, ...] = field(default=())

    def spans(self, text: str) -> list[tuple[int, int]]:
        if not self.uses_timeout:
            return [m.span() for m in self.regex.finditer(text) if m.end() > m.start()]
        try:
            matches = self.regex.finditer(text, timeout=MATCH_TIMEOUT_SECONDS)
            return [m.span() for m in matches if m.end() > m.start()]
        except TimeoutError:
            return []  # the rule is too slow on this text; never the caller's failure


def compile_rule(name: str, *, pattern: str = "", keywords: Sequence[str] = ()) -> CustomRule:
    """A rule from a regex (``check_pattern`` first) or from keywords; ``UnsafePattern``
    when the regex is refused."""
    words = tuple(w.strip() for w in keywords if w.strip())
    if words:
        alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        compiled = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
        return CustomRule(name, compiled, keywords=words)
    check_pattern(pattern)
    try:
        import regex  # type: ignore[import-untyped]  # a match time limit, where installed
    except ImportError:
        return CustomRule(name, re.compile(pattern, re.IGNORECASE))
    return CustomRule(name, regex.compile(pattern, regex.IGNORECASE), uses_timeout=True)


def check_pattern(pattern: str) -> None:
    """Refuse a pattern that could backtrack catastrophically, or that is not a regex."""
    if not pattern:
        raise UnsafePattern("Enter a pattern.")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UnsafePattern(f"A pattern can be at most {MAX_PATTERN_LENGTH} characters long.")
    try:
        parsed = sre_parse.parse(pattern)
        re.compile(pattern)
    except re.error as exc:
        raise UnsafePattern(f"This is not a valid regular expression: {exc.msg}.") from exc
    _check_tree(list(parsed), outer=None)
    if re.fullmatch(pattern, ""):
        raise UnsafePattern("The pattern matches empty text; it would flag every message.")


_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT}
_UNBOUNDED = sre_constants.MAXREPEAT


def _check_tree(items: list[tuple[Any, Any]], *, outer: int | None) -> None:
    """``outer``: the upper bound of the repetition around ``items`` (None: none). A
    variable-width repetition inside another, either of them unbounded, can split the same
    text in exponentially many ways; so can alternatives inside an unbounded repetition."""
    for op, value in items:
        if op in (sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS):
            raise UnsafePattern("Backreferences (\\1, (?P=name)) are not allowed.")
        if op in _REPEATS:
            low, high, body = value
            if outer is not None and low != high and _UNBOUNDED in (outer, high):
                raise UnsafePattern(
                    "A repeated group may not contain another repetition, e.g. (a+)+: "
                    "such patterns can take minutes on one message."
                )
            inner = high if outer is None else max(outer, high)
            _check_tree(list(body), outer=inner if high > 1 else outer)
        elif op == sre_constants.BRANCH:
            if outer == _UNBOUNDED:
                raise UnsafePattern(
                    "A repeated group may not contain alternatives, e.g. (a|ab)*: "
                    "such patterns can take minutes on one message."
                )
            for branch in value[1]:
                _check_tree(list(branch), outer=outer)
        elif op == sre_constants.SUBPATTERN:
            _check_tree(list(value[3]), outer=outer)
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            _check_tree(list(value[1]), outer=outer)


# --- PHI hints ----------------------------------------------------------------------------------

_MRN = re.compile(
    r"\b(?:mrn|medical\s+record(?:\s+(?:number|no\.?|#))?|historia\s+cl[ií]nica)"
    r"\s*[:#]?\s*([A-Z]{0,3}\d{6,10})\b",
    re.IGNORECASE,
)
_ICD10 = re.compile(r"\b[A-TV-Z]\d[0-9AB](?:\.[0-9A-TV-Z]{1,4})?\b")
_ICD_CONTEXT = re.compile(r"\b(icd|diagnos[ie]s|dx|diagn[oó]stico)", re.IGNORECASE)
_HEALTH_WORDS = re.compile(
    r"\b(diabetes|diabetic|hiv|aids|cancer|c[aá]ncer|chemotherapy|quimioterapia|"
    r"hepatitis|tuberculosis|pregnan(?:t|cy)|embarazada|embarazo|depression|depresi[oó]n|"
    r"schizophrenia|bipolar|dementia|epilepsy|asthma|hypertension|hipertensi[oó]n|"
    r"dialysis|di[aá]lisis|insulin|insulina|metformin|methadone|buprenorphine|suboxone|"
    r"naloxone|lithium|prozac|fluoxetine|sertraline|oxycodone|antiretroviral|"
    r"prescription|receta\s+m[eé]dica|diagnosed|diagnosticad[oa])\b",
    re.IGNORECASE,
)


def phi_hints(text: str) -> list[Match]:
    """Possible health information: hints for a reviewer (HIPAA's identifiers matter when
    combined with health context), never a reason to block. ``rule`` says which hint."""
    if not text:
        return []
    hints = [Match(PHI_HINT, m.start(1), m.end(1), 0.8, "mrn") for m in _MRN.finditer(text)]
    hints += [
        Match(PHI_HINT, m.start(), m.end(), 0.6, "icd10")
        for m in _ICD10.finditer(text)
        if _has_context(text, m.start(), _ICD_CONTEXT)
    ]
    hints += [
        Match(PHI_HINT, m.start(), m.end(), 0.4, "health_term")
        for m in _HEALTH_WORDS.finditer(text)
    ]
    return sorted(hints, key=lambda m: m.start)
