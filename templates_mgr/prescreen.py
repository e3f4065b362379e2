"""Content pre-screen: what Meta's commerce policy and government policy forbid in a
template, found before an admin submits it.

``prescreen(draft, agency)`` reads every text a citizen (or Meta's reviewer) will see — the
name, header, body, footer, button labels and links, and the samples — and returns a
``Finding`` per problem: lottery and gambling, weapons, adult content, drugs, the agency's
own banned terms (``BannedTerm``, edited by its admins), and personal data
(``bsp.sensitive_data``: SSNs, ITINs, card numbers). The ``excerpt`` shows the words
around the hit with personal data masked, so the finding itself never repeats it.

A finding is advice, not a wall: ``services.submit_template`` refuses a draft with findings
unless the admin gives a justification, which the audit trail keeps.

Matching is by whole words after normalising case, accents (é → e) and light leetspeak
(``l0tt3ry`` → lottery) inside words that have letters; so "Scunthorpe" never matches a
four-letter word inside it, and a number such as 1000 is left alone. A term of several
words matches those words in sequence; a plural ``s``/``es`` matches too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bsp import sensitive_data
from templates_mgr.drafts import TemplateDraft

LOTTERY_GAMBLING = "lottery_gambling"
WEAPONS = "weapons"
ADULT = "adult_content"
DRUGS = "drugs"
BANNED_TERM = "banned_term"
SENSITIVE_DATA = "sensitive_data"
CATEGORY_LABELS = {
    LOTTERY_GAMBLING: "Lottery or gambling",
    WEAPONS: "Weapons",
    ADULT: "Adult content",
    DRUGS: "Drugs",
    BANNED_TERM: "Banned by your agency",
    SENSITIVE_DATA: "Personal data",
}

# Meta's commerce and business policies forbid promoting these in WhatsApp messages; the
# lists name the words a reviewer flags, not every synonym (an admin can add their own).
POLICY_TERMS: dict[str, tuple[str, ...]] = {
    LOTTERY_GAMBLING: (
        "lottery",
        "lotto",
        "jackpot",
        "casino",
        "gambling",
        "gamble",
        "sportsbook",
        "sweepstakes",
        "poker",
        "blackjack",
        "roulette",
        "slot machine",
        "scratch card",
        "wager",
        "betting",
    ),
    WEAPONS: (
        "gun",
        "firearm",
        "handgun",
        "rifle",
        "shotgun",
        "pistol",
        "ammunition",
        "ammo",
        "explosive",
        "grenade",
        "assault weapon",
        "silencer",
    ),
    ADULT: (
        "porn",
        "porno",
        "pornography",
        "pornographic",
        "xxx",
        "nude",
        "nudes",
        "nudity",
        "erotic",
        "escort",
        "sexting",
        "onlyfans",
        "cunt",
        "adult content",
    ),
    DRUGS: (
        "cocaine",
        "heroin",
        "meth",
        "methamphetamine",
        "fentanyl",
        "marijuana",
        "cannabis",
        "mdma",
        "ecstasy",
        "lsd",
        "ketamine",
        "psilocybin",
        "magic mushrooms",
        "kratom",
    ),
}
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
_TOKEN = re.compile(r"[\w@$]+")
EXCERPT_RADIUS = 30


@dataclass(frozen=True)
class Finding:
    field: str  # the validator's field paths ("body.text", "buttons.1.url", "name"…)
    category: str
    message: str
    excerpt: str  # the words around the hit, personal data masked

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS.get(self.category, self.category)


@dataclass(frozen=True)
class _Token:
    word: str  # normalised
    start: int
    end: int


def normalize_word(word: str) -> str:
    """Lowercase, accents stripped, light leetspeak undone (only in words with letters)."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    if any(c.isalpha() for c in plain):
        plain = plain.translate(_LEET)
    return plain.replace("_", "")


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(text):
        # Underscores join words in names (free_lottery_ticket): split on them too.
        offset = match.start()
        for part in re.finditer(r"[^_]+", match.group(0)):
            word = normalize_word(part.group(0))
            if word:
                tokens.append(_Token(word, offset + part.start(), offset + part.end()))
    return tokens


def _term_words(term: str) -> tuple[str, ...]:
    return tuple(normalize_word(w) for w in _TOKEN.findall(term) if normalize_word(w))


def _word_matches(token: str, word: str) -> bool:
    return token == word or token in (f"{word}s", f"{word}es")


def find_terms(text: str, terms: Iterable[str]) -> Iterator[tuple[str, int, int]]:
    """``(term, start, end)`` for every whole-word occurrence of each term in ``text``."""
    tokens = _tokens(text)
    for term in terms:
        words = _term_words(term)
        if not words:
            continue
        for i in range(len(tokens) - len(words) + 1):
            window = tokens[i : i + len(words)]
            if all(_word_matches(t.word, w) for t, w in zip(window, words, strict=True)):
                yield term, window[0].start, window[-1].end


def excerpt(text: str, start: int, end: int) -> str:
    """The words around ``text[start:end]``, personal data masked."""
    left = max(0, start - EXCERPT_RADIUS)
    right = min(len(text), end + EXCERPT_RADIUS)
    # Mask the whole text first (masking keeps lengths): a cut through a number must not
    # leave its digits readable.
    snippet = sensitive_data.mask(text)[left:right].replace("\n", " ")
    return f"{'…' if left else ''}{snippet}{'…' if right < len(text) else ''}"


def texts(draft: TemplateDraft) -> list[tuple[str, str]]:
    """Every (field, text) of a draft a person will read, samples included."""
    found: list[tuple[str, str]] = [("name", (draft.name or "").replace("_", " "))]
    header = draft.header or {}
    if isinstance(header.get("text"), str):
        found.append(("header.text", header["text"]))
    found += [("header.example", s) for s in _example_strings(header.get("example"))]
    body = draft.body or {}
    if isinstance(body.get("text"), str):
        found.append(("body.text", body["text"]))
    found += [("body.example", s) for s in _example_strings(body.get("example"))]
    footer = draft.footer or {}
    if isinstance(footer.get("text"), str):
        found.append(("footer.text", footer["text"]))
    for index, button in enumerate(draft.buttons):
        for key in ("text", "url", "phone_number"):
            if isinstance(button.get(key), str):
                found.append((f"buttons.{index}.{key}", button[key]))
        found += [(f"buttons.{index}.example", s) for s in _example_strings(button.get("example"))]
    return [(f, t) for f, t in found if t]


def _example_strings(example: object) -> list[str]:
    """Sample values in any of Meta's example shapes (lists, nested lists, named params)."""
    if isinstance(example, str):
        return [example]
    if isinstance(example, list):
        return [s for item in example for s in _example_strings(item)]
    if isinstance(example, dict):
        out: list[str] = []
        for key, value in example.items():
            if key == "header_handle":
                continue  # an upload handle, not words
            if key.endswith("_named_params") and isinstance(value, list):
                out += [str(v.get("example", "")) for v in value if isinstance(v, dict)]
            else:
                out += _example_strings(value)
        return out
    return []


def prescreen(draft: TemplateDraft, agency: object | None = None) -> list[Finding]:
    """Every policy problem of ``draft``; ``agency`` adds its banned terms (``BannedTerm``,
    read in the agency's scope)."""
    banned = _banned_terms(agency) if agency is not None else []
    findings: list[Finding] = []
    for field, text in texts(draft):
        findings += _policy_findings(field, text)
        findings += _banned_findings(field, text, banned)
        findings += _sensitive_findings(field, text)
    return findings


def screen_text(field: str, text: str, banned: Iterable[str] = ()) -> list[Finding]:
    """The same checks on one text (for a single field's live check)."""
    return (
        _policy_findings(field, text)
        + _banned_findings(field, text, list(banned))
        + _sensitive_findings(field, text)
    )


def _policy_findings(field: str, text: str) -> list[Finding]:
    findings: list[Finding] = []
    for category, terms in POLICY_TERMS.items():
        seen: set[tuple[int, int]] = set()
        for _term, start, end in find_terms(text, terms):
            if (start, end) in seen:
                continue
            seen.add((start, end))
            label = CATEGORY_LABELS[category].lower()
            findings.append(
                Finding(
                    field,
                    category,
                    f"“{text[start:end]}” reads as {label}, which WhatsApp's policies and "
                    "government rules do not allow in messages: Meta is likely to reject it.",
                    excerpt(text, start, end),
                )
            )
    return findings


def _banned_findings(field: str, text: str, banned: list[str]) -> list[Finding]:
    return [
        Finding(
            field,
            BANNED_TERM,
            f"“{text[start:end]}” is on your agency's list of banned terms ({term}).",
            excerpt(text, start, end),
        )
        for term, start, end in find_terms(text, banned)
    ]


def _sensitive_findings(field: str, text: str) -> list[Finding]:
    return [
        Finding(
            field,
            SENSITIVE_DATA,
            f"This looks like {match.label}. Every recipient sees a template's text and "
            "samples: never put personal data in a template.",
            excerpt(text, match.start, match.end),
        )
        for match in sensitive_data.find_sensitive(text)
    ]


def _banned_terms(agency: object) -> list[str]:
    from templates_mgr.models import BannedTerm
    from tenants.scoping import agency_scope

    with agency_scope(agency):  # type: ignore[arg-type]
        return list(BannedTerm.objects.values_list("term", flat=True))
