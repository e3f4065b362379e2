"""Redactions burned into an export: spans of a message's display text, withheld files,
withheld messages, each with its exemption code (e.g. ``(b)(6)``).

The original record is never touched: a redaction applies to the copy being produced.
Each redacted span is replaced by ``[REDACTED <code>]`` at the place of the deletion
(5 U.S.C. 552(b), closing sentences), a withheld file by a placeholder naming its code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

MAX_CODE_LENGTH: Final = 40


@dataclass(frozen=True, order=True)
class Span:
    """Characters ``start`` (inclusive) to ``end`` (exclusive) of the display text."""

    start: int
    end: int
    code: str


@dataclass(frozen=True)
class Redactions:
    text: dict[int, tuple[Span, ...]] = field(default_factory=dict)  # message id → spans
    media: dict[int, str] = field(default_factory=dict)  # media object id → code
    withheld_messages: dict[int, str] = field(default_factory=dict)  # message id → code

    def is_empty(self) -> bool:
        return not (self.text or self.media or self.withheld_messages)

    def count(self) -> int:
        return (
            sum(len(s) for s in self.text.values()) + len(self.media) + len(self.withheld_messages)
        )


def marker(code: str) -> str:
    return f"[REDACTED {clean_code(code)}]"


def media_marker(code: str) -> str:
    return f"[FILE WITHHELD {clean_code(code)}]"


def message_marker(code: str) -> str:
    return f"[MESSAGE WITHHELD {clean_code(code)}]"


def clean_code(code: str) -> str:
    """An exemption code as printed: one line, printable, bounded."""
    text = "".join(ch for ch in str(code) if ch.isprintable()).strip()
    return text[:MAX_CODE_LENGTH] or "withheld"


def apply_spans(text: str, spans: tuple[Span, ...] | list[Span]) -> tuple[str, list[str]]:
    """The text with each span replaced by its marker, and the codes applied, in order.

    Spans are clamped to the text; overlapping or touching spans merge (the first one's
    code, then the others' codes joined, so nothing is shown of an overlap)."""
    merged: list[tuple[int, int, list[str]]] = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        start = max(0, min(len(text), int(span.start)))
        end = max(start, min(len(text), int(span.end)))
        if end == start:
            continue
        code = clean_code(span.code)
        if merged and start <= merged[-1][1]:
            last = merged[-1]
            codes = last[2] if code in last[2] else [*last[2], code]
            merged[-1] = (last[0], max(last[1], end), codes)
        else:
            merged.append((start, end, [code]))
    if not merged:
        return text, []
    out: list[str] = []
    position = 0
    applied: list[str] = []
    for start, end, codes in merged:
        out.append(text[position:start])
        out.append(marker(", ".join(codes)))
        applied.extend(codes)
        position = end
    out.append(text[position:])
    return "".join(out), applied
