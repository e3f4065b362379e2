"""Template management types and request checks (cloud-api.md §4)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from messaging.whatsapp.errors import InvalidMessageError

CATEGORIES = frozenset({"MARKETING", "UTILITY", "AUTHENTICATION"})
_NAME_RE = re.compile(r"^[a-z0-9_]{1,512}$")


def normalize_language(code: Any) -> str:
    """The one comparable form of a template language: Meta writes ``en_US`` in one place
    and ``en-US`` in another, in either case (cloud-api.md §10). Compare with this; store
    and send Meta's own code."""
    return str(code or "").strip().replace("-", "_").lower()


@dataclass(frozen=True)
class TemplateInfo:
    id: str
    name: str
    language: str
    status: str
    category: str
    components: tuple[Mapping[str, Any], ...]
    parameter_format: str = "POSITIONAL"
    rejected_reason: str | None = None
    quality_score: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TemplateInfo:
        quality = data.get("quality_score")
        return cls(
            id=str(data["id"]),
            name=str(data.get("name", "")),
            language=str(data.get("language", "")),
            status=str(data.get("status", "")),
            category=str(data.get("category", "")),
            components=tuple(data.get("components") or ()),
            parameter_format=str(data.get("parameter_format") or "POSITIONAL"),
            rejected_reason=data.get("rejected_reason"),
            quality_score=quality.get("score") if isinstance(quality, Mapping) else quality,
        )


@dataclass(frozen=True)
class TemplatePage:
    templates: tuple[TemplateInfo, ...]
    before: str | None
    after: str | None
    has_next: bool


@dataclass(frozen=True)
class TemplateCreated:
    id: str
    status: str
    category: str


def build_create_payload(
    *,
    name: str,
    language: str,
    category: str,
    components: Sequence[Mapping[str, Any]],
    parameter_format: str | None = None,
    message_send_ttl_seconds: int | None = None,
) -> dict[str, Any]:
    """Body of ``POST /{waba-id}/message_templates``; Meta reviews the content itself."""
    if not _NAME_RE.match(name or ""):
        raise InvalidMessageError("name", "use 1-512 lowercase letters, digits and _")
    if not language:
        raise InvalidMessageError("language", "is required")
    if category not in CATEGORIES:
        raise InvalidMessageError("category", f"must be one of {', '.join(sorted(CATEGORIES))}")
    if not any(str(c.get("type", "")).upper() == "BODY" for c in components):
        raise InvalidMessageError("components", "a BODY component is required")
    body: dict[str, Any] = {
        "name": name,
        "language": language,
        "category": category,
        "components": [dict(c) for c in components],
    }
    if parameter_format is not None:
        if parameter_format not in ("POSITIONAL", "NAMED"):
            raise InvalidMessageError("parameter_format", "must be POSITIONAL or NAMED")
        body["parameter_format"] = parameter_format
    if message_send_ttl_seconds is not None:
        body["message_send_ttl_seconds"] = int(message_send_ttl_seconds)
    return body
