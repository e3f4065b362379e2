"""What a citizen will see when a template is sent with some values, and the values it needs.

``template_variables(template)`` lists the fields a send must fill, as the template's
components declare them (Meta's create-request shape, as synced or drafted):

- a text header's variable (``header_1`` / ``header_<name>``), a media header's file link
  (``header_media``), a location header's place (``header_latitude``, ``header_longitude``,
  ``header_location_name``, ``header_location_address``);
- the body's variables, positional ``{{1}}`` (``var_1``) or named ``{{first_name}}``
  (``var_first_name``), each once however often the text uses it;
- a URL button's dynamic suffix and a copy-code button's code (``button_<index>``);
- an authentication template's one-time code (``otp_code``: the body's value and its
  button's).

``render_preview(template, values)`` fills them in (a value not given shows as its
placeholder); ``render_draft_preview(draft)`` does the same for an editor's draft, with its
samples unless values are given. Both take anything with ``name``, ``language``,
``category``, ``parameter_format`` and ``components`` (a ``MessageTemplate`` or a
``TemplateDraft``). ``frontend/templates/templates_mgr/preview.html`` draws a
``PreviewModel`` as a phone bubble; the inbox composer, campaigns and the template manager
all use it. ``build_template_message`` makes the send's builder from the same values.

Every value here is staff input and every template text came from Meta or an admin: the
model holds plain strings and the template escapes them (no ``mark_safe`` anywhere).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from messaging.whatsapp import builders
from messaging.whatsapp.errors import InvalidMessageError
from templates_mgr.models import MessageTemplate
from templates_mgr.variables import positional_order, variable_names

_VARIABLE = re.compile(r"\{\{\s*([a-z0-9_]+)\s*\}\}")
MEDIA_HEADERS = {"IMAGE": "image", "VIDEO": "video", "DOCUMENT": "document"}
# Meta's own limits on one parameter (a longer hydrated body fails with 132005).
VALUE_MAX = 1024
# What WhatsApp itself writes in an authentication template (Meta's English wording).
AUTH_BODY = "{{code}} is your verification code."
AUTH_SECURITY = "For your security, do not share this code."
AUTH_EXPIRY = "This code expires in {minutes} minutes."
OTP_KEY = "otp_code"
LOCATION_FIELDS = (
    ("latitude", "Header location: latitude (for example 39.7817)"),
    ("longitude", "Header location: longitude (for example -89.6501)"),
    ("location_name", "Header location: place name"),
    ("location_address", "Header location: address"),
)


class TemplateLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def parameter_format(self) -> str: ...
    @property
    def components(self) -> Any: ...


@dataclass(frozen=True)
class Variable:
    """One value a send needs. ``key`` is its form field and query parameter name."""

    key: str
    component: str  # "header", "body" or "button"
    name: str  # "1" (positional) or "first_name" (named); "media"/"latitude"… for headers
    label: str
    example: str = ""
    button_index: int | None = None
    media_kind: str = ""  # image/video/document for a media header
    kind: str = "text"  # text, media, location, coupon_code, url_suffix, otp


@dataclass(frozen=True)
class Segment:
    text: str
    variable: bool = False  # a filled value (or a placeholder when ``missing``)
    missing: bool = False


@dataclass(frozen=True)
class PreviewButton:
    kind: str  # URL, QUICK_REPLY, PHONE_NUMBER, COPY_CODE, OTP, FLOW…
    text: str
    target: str = ""  # the URL (suffix filled), the phone number, the code to copy


@dataclass(frozen=True)
class PreviewModel:
    name: str
    language: str
    header_text: tuple[Segment, ...] = ()
    header_media: str = ""  # image/video/document/location: shown as a labelled box
    header_media_link: str = ""
    header_media_name: str = ""  # the sample's file name (and type) in the editor
    header_location: tuple[str, ...] = ()  # place name, address, "lat, long" when given
    body: tuple[Segment, ...] = ()
    footer: str = ""
    buttons: tuple[PreviewButton, ...] = ()
    missing: tuple[str, ...] = ()  # labels of the variables still empty
    category: str = ""

    @property
    def complete(self) -> bool:
        return not self.missing


def _components(template: TemplateLike) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    raw = template.components
    for component in raw if isinstance(raw, list | tuple) else []:
        if isinstance(component, dict):
            found.setdefault(str(component.get("type", "")).upper(), component)
    return found


def _named(template: TemplateLike) -> bool:
    return template.parameter_format == MessageTemplate.ParameterFormat.NAMED


def _authentication(template: TemplateLike) -> bool:
    return template.category == MessageTemplate.Category.AUTHENTICATION


def _names(text: str, named: bool) -> list[str]:
    """Each variable once, in the order a send gives them: positional by number."""
    seen = variable_names(text)
    return seen if named else positional_order(seen)


def _examples(component: dict[str, Any], key: str, names: list[str], named: bool) -> list[str]:
    """Samples in the order of ``names``."""
    example = component.get("example")
    if not isinstance(example, dict):
        return [""] * len(names)
    if named:
        items = example.get(f"{key}_named_params")
        by_name = {
            str(item.get("param_name", "")): str(item.get("example", ""))
            for item in items or []
            if isinstance(item, dict)
        }
        return [by_name.get(n, "") for n in names]
    raw = example.get(key)
    if isinstance(raw, list) and raw and isinstance(raw[0], list):
        raw = raw[0]  # body_text is a list of lists
    values = [str(item) for item in raw] if isinstance(raw, list) else []
    return [values[int(n) - 1] if n.isdigit() and 0 < int(n) <= len(values) else "" for n in names]


def _buttons(components: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    buttons = components.get("BUTTONS", {}).get("buttons")
    return [b for b in buttons if isinstance(b, dict)] if isinstance(buttons, list) else []


def _button_example(button: dict[str, Any]) -> str:
    example = button.get("example")
    if isinstance(example, list):
        return str(example[0]) if example else ""
    return str(example or "")


def template_variables(template: TemplateLike) -> list[Variable]:
    named = _named(template)
    components = _components(template)
    found: list[Variable] = []
    if _authentication(template):
        label = "One-time code"
        found.append(Variable(OTP_KEY, "body", "1", label, "123456", kind="otp"))
        return found
    header = components.get("HEADER")
    if header is not None:
        fmt = str(header.get("format", "TEXT")).upper()
        if fmt == "TEXT":
            names = _names(str(header.get("text", "")), named)
            examples = _examples(header, "header_text", names, named)
            for name, example in zip(names, examples, strict=True):
                label = f"Header {{{{{name}}}}}"
                found.append(Variable(f"header_{name}", "header", name, label, example))
        elif fmt in MEDIA_HEADERS:
            kind = MEDIA_HEADERS[fmt]
            label = f"Header {kind}: link to the file (https)"
            found.append(
                Variable("header_media", "header", "media", label, media_kind=kind, kind="media")
            )
        elif fmt == "LOCATION":
            for name, label in LOCATION_FIELDS:
                found.append(Variable(f"header_{name}", "header", name, label, kind="location"))
    body = components.get("BODY")
    if body is not None:
        names = _names(str(body.get("text", "")), named)
        examples = _examples(body, "body_text", names, named)
        for name, example in zip(names, examples, strict=True):
            found.append(Variable(f"var_{name}", "body", name, f"{{{{{name}}}}}", example))
    for index, button in enumerate(_buttons(components)):
        kind = str(button.get("type", "")).upper()
        text = str(button.get("text", "")) or "link"
        if kind == "URL" and _VARIABLE.search(str(button.get("url", ""))):
            label = f"Button “{text}”: end of the link"
            found.append(
                Variable(
                    f"button_{index}",
                    "button",
                    "1",
                    label,
                    _button_example(button),
                    button_index=index,
                    kind="url_suffix",
                )
            )
        elif kind == "COPY_CODE":
            found.append(
                Variable(
                    f"button_{index}",
                    "button",
                    "coupon_code",
                    "Code to copy (up to 15 characters)",
                    _button_example(button),
                    button_index=index,
                    kind="coupon_code",
                )
            )
    return found


def sample_values(template: TemplateLike) -> dict[str, str]:
    """Each variable's sample (what Meta's reviewers read), by key."""
    return {v.key: v.example for v in template_variables(template) if v.example}


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


def render_preview(
    template: TemplateLike, values: dict[str, str], *, sample_name: str = ""
) -> PreviewModel:
    """The template as the citizen sees it with ``values`` (keys as ``template_variables``).
    ``sample_name`` labels a media header in the editor (the uploaded sample's file)."""
    if _authentication(template):
        return _authentication_preview(template, values)
    components = _components(template)
    missing: list[str] = []
    header_text: list[Segment] = []
    header_media = header_link = ""
    location: tuple[str, ...] = ()
    header = components.get("HEADER")
    if header is not None:
        fmt = str(header.get("format", "TEXT")).upper()
        if fmt == "TEXT":
            header_text, gaps = _fill(str(header.get("text", "")), values, "header_")
            missing += gaps
        elif fmt == "LOCATION":
            header_media = "location"
            location, gaps = _location(values)
            missing += gaps
        else:
            header_media = MEDIA_HEADERS.get(fmt, fmt.lower())
            header_link = values.get("header_media", "")
            if fmt in MEDIA_HEADERS and not header_link and not sample_name:
                missing.append(f"header {header_media}")
    body, gaps = _fill(str(components.get("BODY", {}).get("text", "")), values, "var_")
    missing += gaps
    buttons: list[PreviewButton] = []
    for index, button in enumerate(_buttons(components)):
        preview_button, gap = _preview_button(index, button, values)
        buttons.append(preview_button)
        missing += [gap] if gap else []
    return PreviewModel(
        name=template.name,
        language=template.language,
        header_text=tuple(header_text),
        header_media=header_media,
        header_media_link=header_link,
        header_media_name=sample_name,
        header_location=location,
        body=tuple(body),
        footer=str(components.get("FOOTER", {}).get("text", "")),
        buttons=tuple(buttons),
        missing=tuple(missing),
        category=template.category,
    )


def render_draft_preview(
    draft: TemplateLike, values: dict[str, str] | None = None, *, sample_name: str = ""
) -> PreviewModel:
    """An editor's draft as the citizen will see it: with its samples unless ``values``."""
    filled = sample_values(draft) if values is None else values
    return render_preview(draft, filled, sample_name=sample_name)


def _location(values: dict[str, str]) -> tuple[tuple[str, ...], list[str]]:
    lat, lng = values.get("header_latitude", ""), values.get("header_longitude", "")
    lines = [values.get("header_location_name", ""), values.get("header_location_address", "")]
    shown = tuple(line for line in [*lines, f"{lat}, {lng}" if lat and lng else ""] if line)
    gaps = [name for name, _ in LOCATION_FIELDS if not values.get(f"header_{name}")]
    return shown, (["header location"] if gaps else [])


def _preview_button(
    index: int, button: dict[str, Any], values: dict[str, str]
) -> tuple[PreviewButton, str]:
    kind = str(button.get("type", "")).upper()
    text = str(button.get("text", ""))
    if kind == "URL":
        target = str(button.get("url", ""))
        if _VARIABLE.search(target):
            suffix = values.get(f"button_{index}", "")
            target = _VARIABLE.sub(suffix or "…", target)
            if not suffix:
                return PreviewButton(kind, text, target), f"button {index + 1} link"
        return PreviewButton(kind, text, target), ""
    if kind == "PHONE_NUMBER":
        return PreviewButton(kind, text, str(button.get("phone_number", ""))), ""
    if kind == "COPY_CODE":
        code = values.get(f"button_{index}", "")
        gap = "" if code else f"button {index + 1} code"
        return PreviewButton(kind, text or "Copy offer code", code), gap
    if kind == "FLOW":
        return PreviewButton(kind, text, ""), ""
    return PreviewButton(kind, text, ""), ""


def _authentication_preview(template: TemplateLike, values: dict[str, str]) -> PreviewModel:
    components = _components(template)
    code = values.get(OTP_KEY, "")
    body = [
        Segment(code or "{{code}}", variable=True, missing=not code),
        Segment(AUTH_BODY.removeprefix("{{code}}")),
    ]
    if components.get("BODY", {}).get("add_security_recommendation"):
        body.append(Segment(f" {AUTH_SECURITY}"))
    minutes = components.get("FOOTER", {}).get("code_expiration_minutes")
    footer = AUTH_EXPIRY.format(minutes=minutes) if isinstance(minutes, int) else ""
    buttons = []
    for button in _buttons(components):
        otp_type = str(button.get("otp_type", "COPY_CODE")).upper()
        default = "Autofill" if otp_type in ("ONE_TAP", "ZERO_TAP") else "Copy code"
        label = str(button.get("autofill_text") or button.get("text") or default)
        buttons.append(PreviewButton("OTP", label, code))
    return PreviewModel(
        name=template.name,
        language=template.language,
        body=tuple(body),
        footer=footer,
        buttons=tuple(buttons),
        missing=() if code else ("one-time code",),
        category=template.category,
    )


def build_template_message(template: TemplateLike, values: dict[str, str]) -> builders.Template:
    """The send's builder with every variable of ``template`` filled from ``values``.
    Raises ``InvalidMessageError`` (from the builders) on a value Meta would refuse."""
    named = _named(template)
    header: builders.HeaderParam | None = None
    body: list[builders.BodyParam] = []
    buttons: list[builders.ButtonParam] = []
    location: dict[str, str] = {}
    for variable in template_variables(template):
        value = values.get(variable.key, "")
        name = variable.name if named else None
        if variable.kind == "otp":
            body.append(builders.TextParam(value))
            buttons.extend(builders.UrlButton(i, value) for i in _otp_indexes(template))
        elif variable.kind == "media":
            kind: Any = variable.media_kind
            header = builders.MediaParam(kind, link=value)
        elif variable.kind == "location":
            location[variable.name] = value
        elif variable.component == "header":
            header = builders.TextParam(value, name)
        elif variable.component == "body":
            body.append(builders.TextParam(value, name))
        elif variable.kind == "coupon_code" and variable.button_index is not None:
            buttons.append(builders.CopyCodeButton(variable.button_index, value))
        elif variable.button_index is not None:
            buttons.append(builders.UrlButton(variable.button_index, value))
    if location:
        header = _location_param(location)
    return builders.Template(template.name, template.language, header, body, buttons)


def _otp_indexes(template: TemplateLike) -> list[int]:
    buttons = _buttons(_components(template))
    return [i for i, b in enumerate(buttons) if str(b.get("type", "")).upper() == "OTP"]


def _location_param(values: dict[str, str]) -> builders.LocationParam:
    try:
        latitude = float(values.get("latitude", ""))
        longitude = float(values.get("longitude", ""))
    except ValueError:
        raise InvalidMessageError(
            "template.components.header.location", "latitude and longitude must be numbers"
        ) from None
    return builders.LocationParam(
        latitude,
        longitude,
        values.get("location_name") or None,
        values.get("location_address") or None,
    )
