"""A message's versions: the original as received (``content``, immutable) and the citizen's
edits (``content_history``), oldest first.

Two shapes of ``content_history`` exist. Since issue 12 §1 each entry is one edit,
``{"content", "at", "edit_wamid"}``, and ``content`` stays the original. Rows edited before
that hold the *latest* version in ``content`` and the earlier ones in ``content_history``
(``{"content", "at", "replaced_at"}``); the database now refuses to rewrite them, so both
are read here, and a legacy row that is edited again gets new-shape entries after its
legacy ones.

Readers (the inbox, exports) use ``current_content`` for what to show and
``earlier_versions`` for the "edited" disclosure; both take any object with ``content``,
``content_history``, ``received_at``, ``edited_at`` and ``created_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol


class _Versioned(Protocol):
    # Read-only members, so that a model (or any object) with narrower types fits.
    @property
    def content(self) -> Any: ...
    @property
    def content_history(self) -> Any: ...
    @property
    def received_at(self) -> datetime | None: ...
    @property
    def edited_at(self) -> datetime | None: ...
    @property
    def created_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class Version:
    content: dict[str, Any]
    at: str  # ISO 8601, UTC; "" when unknown
    edit_wamid: str = ""  # the edit notice that brought this version ("" for the original)


def versions(message: _Versioned) -> list[Version]:
    """Every version, oldest first; the last is the current one."""
    history = [e for e in _list(message.content_history) if isinstance(e, dict)]
    legacy = [e for e in history if not e.get("edit_wamid")]
    edits = sorted((e for e in history if e.get("edit_wamid")), key=lambda e: _sort_key(e["at"]))
    out = [Version(_dict(e.get("content")), str(e.get("at") or "")) for e in legacy]
    since = message.edited_at if legacy else (message.received_at or message.created_at)
    out.append(Version(_dict(message.content), iso(since) if since else ""))
    out += [Version(_dict(e.get("content")), str(e["at"]), str(e["edit_wamid"])) for e in edits]
    return out


def current_content(message: _Versioned) -> dict[str, Any]:
    """What the citizen's message says now (the latest edit, or the original)."""
    return versions(message)[-1].content


def earlier_versions(message: _Versioned) -> list[dict[str, Any]]:
    """The replaced versions, oldest first, each with when it was written and replaced
    (the shape the inbox's "edited" disclosure reads)."""
    all_versions = versions(message)
    return [
        {"content": v.content, "at": v.at, "replaced_at": all_versions[i + 1].at}
        for i, v in enumerate(all_versions[:-1])
    ]


def edit_entry(content: dict[str, Any], at: datetime, edit_wamid: str) -> dict[str, Any]:
    """One edit as ``content_history`` records it."""
    return {"content": content, "at": iso(at), "edit_wamid": edit_wamid}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _sort_key(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
