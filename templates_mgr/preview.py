"""What a citizen will see when a template is sent with some values, and the values it needs.

``template_variables(template)`` lists the fields a send must fill (header text or media,
body variables positional ``{{1}}`` or named ``{{first_name}}``, a URL button's suffix), as
the template's components declare them (Meta's create-request shape, as synced).
``render_preview(template, values)`` fills them in; a value not given shows as its
placeholder. ``frontend/templates/templates_mgr/preview.html`` draws a ``PreviewModel`` as a
phone bubble; the inbox composer and the template manager both use it.

Every value here is staff input and every template text came from Meta: the model holds
plain strings and the template escapes them (no ``mark_safe`` anywhere).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from messaging.whatsapp import builders
from templates_mgr.models import MessageTemplate

_VARIABLE = re.compile(r"\{\{\s*([a-z0-9_]+)\s*\}\}")
MEDIA_HEADERS = {"IMAGE": "image", "VIDEO": "video", "DOCUMENT": "document"}
# Meta's own limits on one parameter (a longer hydrated body fails with 132005).
VALUE_MAX = 1024


@dataclass(frozen=True)
class Variable:
    """One value a send needs. ``key`` is its form field and query parameter name."""

    key: str
    component: str  # "header", "body" or "button"
    name: str  # "1" (positional) or "first_name" (named); "media" for a media header
    label: str
    example: str = ""
    button_index: int | None = None
    media_kind: str = ""  # image/video/document for a media header


@dataclass(frozen=True)
class Segment:
    text: str
    variable: bool = False  # a filled value (or a placeholder when ``missing``)
    missing: bool = False


@dataclass(frozen=True)
class PreviewButton:
    kind: str  # URL, QUICK_REPLY, PHONE_NUMBER, COPY_CODE, OTP, FLOW…
    text: str
    target: str = ""  # the URL (suffix filled) or the phone number


@dataclass(frozen=True)
class PreviewModel:
    name: str
    language: str
    header_text: tuple[Segment, ...] = ()
    header_media: str = ""  # image/video/document/location: shown as a labelled box
    header_media_link: str = ""
    body: tuple[Segment, ...] = ()
    footer: str = ""
    buttons: tuple[PreviewButton, ...] = ()
    missing: tuple[str, ...] = ()  # labels of the variables still empty

    @property
    def complete(self) -> bool:
        return not self.missing


def _components(template: MessageTemplate) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for component in template.components if isinstance(template.components, list) else []:
        if isinstance(component, dict):
            found.setdefault(str(component.get("type", "")).upper(), component)
    return found


def _names(text: str, named: bool) -> list[str]:
    """Each variable once, in the order a send gives them: positional by number."""
    seen = list(dict.fromkeys(_VARIABLE.findall(text)))
    if named:
        return seen
    return sorted(seen, key=lambda n: int(n) if n.isdigit() else 0)


def _examples(component: dict[str, Any], key: str) -> list[str]:
    example = component.get("example")
    if not isinstance(example, dict):
        return []
    raw = example.get(key)
    if isinstance(raw, list) and raw and isinstance(raw[0], list):
        raw = raw[0]  # body_text is a list of lists
    if isinstance(raw, list):
        if raw and isinstance(raw[0], dict):  # named: [{"param_name":..., "example":...}]
            return [str(item.get("example", "")) for item in raw if isinstance(item, dict)]
        return [str(item) for item in raw]
    return []


def _buttons(components: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    buttons = components.get("BUTTONS", {}).get("buttons")
    return [b for b in buttons if isinstance(b, dict)] if isinstance(buttons, list) else []


def template_variables(template: MessageTemplate) -> list[Variable]:
    named = template.parameter_format == MessageTemplate.ParameterFormat.NAMED
    components = _components(template)
    found: list[Variable] = []
    header = components.get("HEADER")
    if header is not None:
        fmt = str(header.get("format", "TEXT")).upper()
        if fmt == "TEXT":
            examples = _examples(header, "header_text")
            for i, name in enumerate(_names(str(header.get("text", "")), named)):
                example = examples[i] if i < len(examples) else ""
                label = f"Header {{{{{name}}}}}"
                found.append(Variable(f"header_{name}", "header", name, label, example))
        elif fmt in MEDIA_HEADERS:
            kind = MEDIA_HEADERS[fmt]
            label = f"Header {kind}: link to the file (https)"
            found.append(Variable("header_media", "header", "media", label, media_kind=kind))
    body = components.get("BODY")
    if body is not None:
        examples = _examples(body, "body_text_named_params" if named else "body_text")
        for i, name in enumerate(_names(str(body.get("text", "")), named)):
            example = examples[i] if i < len(examples) else ""
            found.append(Variable(f"var_{name}", "body", name, f"{{{{{name}}}}}", example))
    for index, button in enumerate(_buttons(components)):
        if str(button.get("type", "")).upper() != "URL":
            continue
        url = str(button.get("url", ""))
        if _VARIABLE.search(url):
            text = str(button.get("text", "")) or "link"
            label = f"Button “{text}”: end of the link"
            found.append(Variable(f"button_{index}", "button", "1", label, button_index=index))
    return found


def _fill(text: str, values: dict[str, str], prefix: str) -> tuple[list[Segment], list[str]]:
    segments: list[Segment] = []
    missing: list[str] = []
    position = 0
    for match in _VARIABLE.finditer(text):
        if match.start() > position:
            segments.append(Segment(text[position : match.start()]))
        value = values.get(f"{prefix}{match.group(1)}", "")
        if value:
            segments.append(Segment(value, variable=True))
        else:
            segments.append(Segment(match.group(0), variable=True, missing=True))
            missing.append(match.group(0))
        position = match.end()
    if position < len(text):
        segments.append(Segment(text[position:]))
    return segments, missing


def render_preview(template: MessageTemplate, values: dict[str, str]) -> PreviewModel:
    """The template as the citizen sees it with ``values`` (keys as ``template_variables``)."""
    components = _components(template)
    missing: list[str] = []
    header_text: list[Segment] = []
    header_media = header_link = ""
    header = components.get("HEADER")
    if header is not None:
        fmt = str(header.get("format", "TEXT")).upper()
        if fmt == "TEXT":
            header_text, gaps = _fill(str(header.get("text", "")), values, "header_")
            missing += gaps
        else:
            header_media = MEDIA_HEADERS.get(fmt, fmt.lower())
            header_link = values.get("header_media", "")
            if fmt in MEDIA_HEADERS and not header_link:
                missing.append(f"header {header_media}")
    body, gaps = _fill(str(components.get("BODY", {}).get("text", "")), values, "var_")
    missing += gaps
    buttons: list[PreviewButton] = []
    for index, button in enumerate(_buttons(components)):
        kind = str(button.get("type", "")).upper()
        target = str(button.get("url", "") or button.get("phone_number", ""))
        if kind == "URL" and _VARIABLE.search(target):
            suffix = values.get(f"button_{index}", "")
            if not suffix:
                missing.append(f"button {index + 1} link")
            target = _VARIABLE.sub(suffix or "…", target)
        buttons.append(PreviewButton(kind, str(button.get("text", "")), target))
    return PreviewModel(
        name=template.name,
        language=template.language,
        header_text=tuple(header_text),
        header_media=header_media,
        header_media_link=header_link,
        body=tuple(body),
        footer=str(components.get("FOOTER", {}).get("text", "")),
        buttons=tuple(buttons),
        missing=tuple(missing),
    )


def build_template_message(template: MessageTemplate, values: dict[str, str]) -> builders.Template:
    """The send's builder with every variable of ``template`` filled from ``values``.
    Raises ``InvalidMessageError`` (from the builders) on a value Meta would refuse."""
    named = template.parameter_format == MessageTemplate.ParameterFormat.NAMED
    header: builders.HeaderParam | None = None
    body: list[builders.BodyParam] = []
    buttons: list[builders.ButtonParam] = []
    for variable in template_variables(template):
        value = values.get(variable.key, "")
        name = variable.name if named else None
        if variable.component == "header" and variable.media_kind:
            kind: Any = variable.media_kind
            header = builders.MediaParam(kind, link=value)
        elif variable.component == "header":
            header = builders.TextParam(value, name)
        elif variable.component == "body":
            body.append(builders.TextParam(value, name))
        elif variable.button_index is not None:
            buttons.append(builders.UrlButton(variable.button_index, value))
    return builders.Template(template.name, template.language, header, body, buttons)
