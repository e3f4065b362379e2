"""Masking for views (the inbox): the stored message is never altered; what staff see is
the text with each sensitive match hidden — a validated number keeps its last four digits
and its separators ("•••-••-1234"), an agency rule's match has every letter and digit
hidden. Who may reveal the original is the policy's ``reveal_roles``; revealing is audited
(``services.reveal``).

``Masker`` holds one agency's policy and compiled rules for a whole thread page (one query
for the policy, none for cached rules) and records, per message, the kinds it hid.
``mask_preview`` hides validated numbers in the conversation list's one-line snippet
(built-in detectors only: no policy, no query).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bsp.sensitive_data import CUSTOM, find_sensitive
from records.dlp.policy import _DIGIT_RUN, ANY, Engine, Finding, describe, policy_for

MASK_CHAR = "•"
KEEP_LAST = 4
_WORD = re.compile(r"\w")


def _mask_value(value: str, kind: str) -> str:
    if kind == CUSTOM:
        return _WORD.sub(MASK_CHAR, value)
    digits = sum(c.isdigit() for c in value)
    keep = KEEP_LAST if digits > KEEP_LAST + 4 else 0  # short numbers: hide everything
    seen = 0
    out = []
    for char in value:
        if char.isdigit():
            seen += 1
            out.append(char if seen > digits - keep else MASK_CHAR)
        else:
            out.append(char)
    return "".join(out)


def apply(text: str, findings: Sequence[Finding]) -> str:
    """``text`` with the spans of ``findings`` masked (they index into ``text``)."""
    if not findings:
        return text
    parts: list[str] = []
    position = 0
    for finding in sorted(findings, key=lambda f: f.start):
        if finding.start < position:
            continue  # overlapping: the earlier span already hid it
        parts.append(text[position : finding.start])
        parts.append(_mask_value(text[finding.start : finding.end], finding.kind))
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)


class Masker:
    """One agency's masking for a page of messages."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.enabled = bool(engine.policy.inbound_mask)
        self.reveal_roles = tuple(engine.policy.reveal_roles or ())
        self._hidden: list[Finding] = []

    @classmethod
    def for_agency(cls, agency_id: int) -> Masker:
        return cls(Engine(policy_for(agency_id), ANY))

    def begin(self) -> None:
        """A new message: forget what the previous one hid."""
        self._hidden = []

    def hidden(self) -> tuple[str, ...]:
        """What the current message had hidden, in words ("a US Social Security number")."""
        if not self._hidden:
            return ()
        labels: list[str] = []
        for finding in self._hidden:
            if finding.label not in labels:
                labels.append(finding.label)
        return tuple(labels)

    def text(self, value: str) -> str:
        if not self.enabled or not value or not isinstance(value, str):
            return value
        found = [f for f in self.engine.find("view", value) if self.engine.masks(f)]
        if not found:
            return value
        self._hidden += found
        return apply(value, found)


def mask_preview(text: str) -> str:
    """A snippet with validated numbers (SSN, ITIN, card, routing) hidden."""
    if not text or not _DIGIT_RUN.search(text):
        return text
    matches = find_sensitive(text)
    findings = [
        Finding("preview", m.kind, m.start, m.end, m.score, m.rule, "mask") for m in matches
    ]
    return apply(text, findings)


__all__ = ["MASK_CHAR", "Masker", "apply", "describe", "mask_preview"]
