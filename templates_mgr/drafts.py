"""A template as an admin writes it, before and after submission: ``TemplateDraft``.

A draft holds exactly what Meta's create request holds (cloud-api.md §4.2) — name, language,
category, parameter format and the ``components`` list in Meta's own shape — plus the opt-in
``topic`` a send of it needs (ours alone, never sent to Meta). Keeping Meta's shape means
the validator, the pre-screen, the preview and the submission read one structure, and a
template synced from Meta becomes a draft with no translation step.

``compose(...)`` builds the components from the plain fields an editor form has, so pages
do not assemble Meta's JSON by hand. Accessors (``header``, ``body``…) read components
defensively: a draft may be half-written or hostile; the validator says what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from templates_mgr.models import MessageTemplate

POSITIONAL = "POSITIONAL"
NAMED = "NAMED"
CATEGORIES = ("UTILITY", "MARKETING", "AUTHENTICATION")
HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION")
MEDIA_HEADER_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")
BUTTON_TYPES = ("QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "OTP", "FLOW")
OTP_TYPES = ("COPY_CODE", "ONE_TAP", "ZERO_TAP")


@dataclass(frozen=True)
class TemplateDraft:
    name: str
    language: str
    category: str
    parameter_format: str = POSITIONAL
    components: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    topic: str = ""  # an opt-in topic slug; "" = the general opt-in

    # ---- reading components (never raises on a malformed draft)

    def component(self, kind: str) -> dict[str, Any] | None:
        """The first component of ``kind`` (HEADER/BODY/FOOTER/BUTTONS), or None."""
        for component in self.components:
            if isinstance(component, Mapping) and str(component.get("type", "")).upper() == kind:
                return dict(component)
        return None

    @property
    def header(self) -> dict[str, Any] | None:
        return self.component("HEADER")

    @property
    def body(self) -> dict[str, Any] | None:
        return self.component("BODY")

    @property
    def footer(self) -> dict[str, Any] | None:
        return self.component("FOOTER")

    @property
    def buttons(self) -> list[dict[str, Any]]:
        raw = (self.component("BUTTONS") or {}).get("buttons")
        if not isinstance(raw, list):
            return []
        return [dict(b) if isinstance(b, Mapping) else {} for b in raw]

    @property
    def named(self) -> bool:
        return self.parameter_format == NAMED

    @property
    def header_format(self) -> str:
        header = self.header
        return str(header.get("format", "TEXT")).upper() if header else ""

    # ---- conversions

    def create_request(self) -> dict[str, Any]:
        """Keyword arguments of ``CloudAPIClient.create_template`` (minus the WABA)."""
        return {
            "name": self.name,
            "language": self.language,
            "category": self.category,
            "components": [dict(c) for c in self.components],
            "parameter_format": self.parameter_format,
        }

    def with_changes(self, **changes: Any) -> TemplateDraft:
        return replace(self, **changes)

    @classmethod
    def from_template(cls, template: MessageTemplate) -> TemplateDraft:
        components = template.components if isinstance(template.components, list) else []
        return cls(
            name=template.name,
            language=template.language,
            category=template.category,
            parameter_format=template.parameter_format,
            components=tuple(dict(c) for c in components if isinstance(c, Mapping)),
            topic=template.topic,
        )


# ---- building components from an editor's fields ------------------------------------------


def compose(
    *,
    name: str,
    language: str,
    category: str,
    parameter_format: str = POSITIONAL,
    topic: str = "",
    header_format: str = "",
    header_text: str = "",
    header_example: str = "",
    header_handle: str = "",
    body_text: str = "",
    body_examples: Sequence[str] | Mapping[str, str] = (),
    footer_text: str = "",
    buttons: Sequence[Mapping[str, Any]] = (),
    add_security_recommendation: bool = False,
    code_expiration_minutes: int | None = None,
) -> TemplateDraft:
    """A draft from an editor's plain fields. ``body_examples`` is a list for positional
    templates (the sample of ``{{1}}``, ``{{2}}``…) or a mapping name → sample for named
    ones; ``buttons`` are Meta's button objects as they are (``{"type": "URL", "text": …,
    "url": "https://x.gov/{{1}}", "example": ["abc"]}``). Empty fields are left out, so
    the validator reports what is missing."""
    named = parameter_format == NAMED
    components: list[dict[str, Any]] = []
    fmt = header_format.upper()
    if fmt == "TEXT" and header_text:
        header: dict[str, Any] = {"type": "HEADER", "format": "TEXT", "text": header_text}
        if header_example:
            names = _variable_names(header_text)
            if named and names:
                header["example"] = {
                    "header_text_named_params": [
                        {"param_name": names[0], "example": header_example}
                    ]
                }
            else:
                header["example"] = {"header_text": [header_example]}
        components.append(header)
    elif fmt in MEDIA_HEADER_FORMATS:
        header = {"type": "HEADER", "format": fmt}
        if header_handle:
            header["example"] = {"header_handle": [header_handle]}
        components.append(header)
    elif fmt == "LOCATION":
        components.append({"type": "HEADER", "format": "LOCATION"})
    if category == "AUTHENTICATION":
        body: dict[str, Any] = {"type": "BODY"}
        if add_security_recommendation:
            body["add_security_recommendation"] = True
        if body_text:  # not allowed: the validator says so next to the field
            body["text"] = body_text
        components.append(body)
        if code_expiration_minutes is not None:
            components.append(
                {"type": "FOOTER", "code_expiration_minutes": code_expiration_minutes}
            )
    else:
        body = {"type": "BODY", "text": body_text}
        example = _body_example(body_text, body_examples, named)
        if example:
            body["example"] = example
        components.append(body)
        if footer_text:
            components.append({"type": "FOOTER", "text": footer_text})
    if buttons:
        components.append({"type": "BUTTONS", "buttons": [dict(b) for b in buttons]})
    return TemplateDraft(
        name=name.strip(),
        language=language.strip(),
        category=category,
        parameter_format=parameter_format,
        components=tuple(components),
        topic=topic.strip(),
    )


def _variable_names(text: str) -> list[str]:
    from templates_mgr.variables import variable_names

    return variable_names(text)


def _body_example(
    text: str, examples: Sequence[str] | Mapping[str, str], named: bool
) -> dict[str, Any] | None:
    if isinstance(examples, Mapping):
        items = [{"param_name": k, "example": str(v)} for k, v in examples.items() if str(v)]
        return {"body_text_named_params": items} if items else None
    values = [str(v) for v in examples]
    if not values:
        return None
    if named:  # positional samples for a named body: pair them with its names in order
        names = _variable_names(text)
        pairs = [{"param_name": n, "example": v} for n, v in zip(names, values, strict=False)]
        return {"body_text_named_params": pairs}
    return {"body_text": [values]}
