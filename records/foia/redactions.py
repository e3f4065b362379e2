"""A request's redactions as the production and the preview read them.

Spans are code-point offsets into ``records.exports.text.message_display_text`` (the text
the export burns them into). Overlapping or touching spans merge, as the export merges
them (``records.exports.redaction.apply_spans``): the preview shows what will be produced.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from records.exports.redaction import Redactions, Span, clean_code
from records.foia.errors import RequestError

if TYPE_CHECKING:
    from records.foia.models import RecordsRequest


def check_span(start: int, end: int, length: int) -> None:
    """Refuse, in words, a span that is not a non-empty part of a text of ``length``."""
    if start < 0 or end < 0:
        raise _error("Start and end are 0 or more.", "start")
    if end <= start:
        raise _error("The end comes after the start (an empty span redacts nothing).", "end")
    if end > length:
        raise _error(
            f"The message's text has {length} characters: the end is at most {length}.", "end"
        )


def check_phrase(phrase: str, max_length: int) -> str:
    cleaned = (phrase or "").replace("\x00", "")
    if not cleaned.strip():
        raise _error("Type the phrase to redact.", "phrase")
    if len(cleaned) > max_length:
        raise _error(f"A phrase is at most {max_length} characters.", "phrase")
    return cleaned


def _error(message: str, field: str) -> RequestError:
    return RequestError(message, field)


def for_request(request: RecordsRequest) -> Redactions:
    """The request's redactions, for ``build_package``."""
    from records.foia.models import Redaction, RequestItem

    text: dict[int, list[Span]] = defaultdict(list)
    media: dict[int, str] = {}
    for redaction in Redaction.objects.filter(request=request).select_related("item"):
        if redaction.kind == Redaction.Kind.TEXT and redaction.start is not None:
            end = redaction.end if redaction.end is not None else redaction.start
            text[redaction.item.message_id].append(Span(redaction.start, end, redaction.code))
        elif redaction.kind == Redaction.Kind.MEDIA and redaction.media_id is not None:
            media[redaction.media_id] = redaction.code
    withheld = dict(
        RequestItem.objects.filter(
            request=request, decision=RequestItem.Decision.WITHHELD
        ).values_list("message_id", "withheld_code")
    )
    return Redactions(
        text={pk: tuple(sorted(spans)) for pk, spans in text.items()},
        media=media,
        withheld_messages=withheld,
    )


LOG_COLUMNS = [
    "message_id",
    "message_time_utc",
    "what",
    "start",
    "end",
    "characters_withheld",
    "exemption_code",
    "justification",
    "redacted_by",
]


def log_rows(request: RecordsRequest) -> list[list[str]]:
    """The redaction log's rows: one per redaction and per message withheld in full, with
    its code and the amount withheld — never the words."""
    from records.foia.models import Redaction, RequestItem

    rows: list[list[str]] = []
    for r in Redaction.objects.filter(request=request).select_related("item__message"):
        message = r.item.message
        text = r.kind == Redaction.Kind.TEXT
        rows.append(
            [
                str(message.pk),
                _utc(message.created_at),
                "text" if text else "media file",
                str(r.start) if text else "",
                str(r.end) if text else "",
                str((r.end or 0) - (r.start or 0)) if text else "",
                r.code,
                r.note,
                r.created_by,
            ]
        )
    withheld = RequestItem.objects.filter(
        request=request, decision=RequestItem.Decision.WITHHELD
    ).select_related("message")
    for item in withheld:
        rows.append(
            [
                str(item.message_id),
                _utc(item.message.created_at),
                "whole message",
                "",
                "",
                "",
                item.withheld_code,
                "",
                item.decided_by,
            ]
        )
    rows.sort(key=lambda row: (int(row[0]), row[2], row[3].zfill(10)))
    return rows


def write_log(rows: list[list[str]], path: Path) -> None:
    """The production's redaction log (CSV, RFC 4180)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(LOG_COLUMNS)
        writer.writerows([_safe_cell(str(v)) for v in row] for row in rows)


def snapshot(request: RecordsRequest) -> dict[str, Any]:
    """The request's redactions as they stand, as JSON (a production keeps what it was asked
    to burn in; ``from_snapshot`` reads it back)."""
    built = for_request(request)
    return {
        "text": {
            str(pk): [[s.start, s.end, s.code] for s in spans] for pk, spans in built.text.items()
        },
        "media": {str(pk): code for pk, code in built.media.items()},
        "withheld": {str(pk): code for pk, code in built.withheld_messages.items()},
        "log": log_rows(request),
    }


def from_snapshot(data: dict[str, Any]) -> Redactions:
    return Redactions(
        text={
            int(pk): tuple(Span(int(a), int(b), str(code)) for a, b, code in spans)
            for pk, spans in (data.get("text") or {}).items()
        },
        media={int(pk): str(code) for pk, code in (data.get("media") or {}).items()},
        withheld_messages={int(pk): str(code) for pk, code in (data.get("withheld") or {}).items()},
    )


def count(data: dict[str, Any]) -> int:
    return len(data.get("log") or [])


def _utc(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds") if moment else ""


def _safe_cell(value: str) -> str:
    """A spreadsheet never runs a cell as a formula (a justification typed as "=cmd")."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@dataclass(frozen=True)
class Segment:
    text: str  # the words kept ("" for a redacted segment)
    code: str = ""  # the exemption code(s) of a redacted segment
    length: int = 0  # characters deleted

    @property
    def redacted(self) -> bool:
        return bool(self.code)


def preview(display_text: str, spans: list[Span] | tuple[Span, ...]) -> list[Segment]:
    """The redacted message as segments: kept text, and redacted parts naming their code
    and the amount deleted (the redacted characters themselves are not in the result)."""
    merged: list[tuple[int, int, list[str]]] = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        start = max(0, min(len(display_text), span.start))
        end = max(start, min(len(display_text), span.end))
        if end == start:
            continue
        code = clean_code(span.code)
        if merged and start <= merged[-1][1]:
            first, last_end, codes = merged[-1]
            merged[-1] = (first, max(last_end, end), codes if code in codes else [*codes, code])
        else:
            merged.append((start, end, [code]))
    out: list[Segment] = []
    position = 0
    for start, end, codes in merged:
        if start > position:
            out.append(Segment(display_text[position:start]))
        out.append(Segment("", ", ".join(codes), end - start))
        position = end
    if position < len(display_text):
        out.append(Segment(display_text[position:]))
    return out
