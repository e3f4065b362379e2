"""Template rules: what a create request must satisfy (§4.2-4.3) and what a send must match
(§2.7: 132000 count mismatch, 132012 format mismatch, 132005 too long)."""

from __future__ import annotations

import re
from typing import Any

from messaging.simulator.graph import GraphError, invalid_parameter
from messaging.simulator.state import Template

CATEGORIES = frozenset({"MARKETING", "UTILITY", "AUTHENTICATION"})
HEADER_FORMATS = frozenset({"TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION", "GIF", "PRODUCT"})
_NAME_RE = re.compile(r"^[a-z0-9_]{1,512}$")
_VAR_RE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_PARAM_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
_BUTTON_LIMITS = {"QUICK_REPLY": 10, "URL": 2, "PHONE_NUMBER": 1, "COPY_CODE": 1}


def normalize_language(code: str) -> str:
    """Webhooks and callers mix ``en-US`` and ``en_US`` (cloud-api.md §10). This is Meta's
    side; the platform's one normaliser is ``messaging.whatsapp.templates.normalize_language``
    (the simulator imports nothing of the platform)."""
    return code.replace("-", "_")


def variables(text: str) -> list[str]:
    return _VAR_RE.findall(text or "")


def _create_error(subcode: int, title: str, message: str) -> GraphError:
    return GraphError(
        100,
        "Invalid parameter",
        subcode=subcode,
        extra={"is_transient": False, "error_user_title": title, "error_user_msg": message},
    )


# ---- create ----------------------------------------------------------------------------------


def validate_create(body: dict[str, Any], existing: list[Template], max_count: int) -> None:
    name = body.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise invalid_parameter(
            "Param name must be lowercase letters, numbers and underscores (max 512)."
        )
    language = body.get("language")
    if not isinstance(language, str) or not language:
        raise GraphError(
            100, "Invalid parameter", message="(#100) The parameter language is required."
        )
    if body.get("category") not in CATEGORIES:
        raise invalid_parameter("Param category must be one of MARKETING, UTILITY, AUTHENTICATION.")
    if body.get("parameter_format", "POSITIONAL") not in ("POSITIONAL", "NAMED"):
        raise invalid_parameter("Param parameter_format must be POSITIONAL or NAMED.")
    components = body.get("components")
    if not isinstance(components, list) or not components:
        raise invalid_parameter("Param components must be a non-empty array.")
    lang = normalize_language(language)
    if any(t.name == name and normalize_language(t.language) == lang for t in existing):
        raise _create_error(
            2388024,
            "Content in this language already exists",
            f"A template named {name} already exists in {language}.",
        )
    if len({t.name for t in existing}) >= max_count:
        raise _create_error(2388019, "Template limit reached", "Message template limit exceeded.")
    validate_components(components, body)


def validate_components(components: list[Any], body: dict[str, Any]) -> None:
    named = body.get("parameter_format") == "NAMED"
    category = body.get("category")
    kinds = [str(c.get("type", "")).upper() for c in components if isinstance(c, dict)]
    if len(kinds) != len(components):
        raise invalid_parameter("Each component must be a JSON object.")
    if "BODY" not in kinds:
        raise invalid_parameter("Param components must include a BODY component.")
    for component, kind in zip(components, kinds, strict=True):
        checker = _COMPONENT_CHECKS.get(kind)
        if checker is None:
            raise invalid_parameter(f"Component type {kind} is not valid.")
        checker(component, named=named, category=category)


def _check_vars(text: str, where: str, *, named: bool, example: Any) -> None:
    found = variables(text)
    if not found:
        return
    if named:
        bad = [v for v in found if not _PARAM_NAME_RE.match(v)]
        if bad:
            raise invalid_parameter(f"{where}: named parameters must be lowercase: {bad[0]}")
    else:
        if any(not v.isdigit() for v in found):
            raise invalid_parameter(f"{where}: positional templates use {{{{1}}}}, {{{{2}}}}, ...")
        numbers = sorted({int(v) for v in found})
        if numbers != list(range(1, len(numbers) + 1)):
            raise _create_error(
                2388047, "Invalid variables", f"{where}: variables must be sequential"
            )
    if re.search(r"\}\}\s*\{\{", text):
        raise _create_error(
            2388047, "Adjacent parameters", f"{where}: separate variables with text"
        )
    if example is None:
        raise invalid_parameter(f"{where}: every variable needs an example value.")


def _body(component: dict[str, Any], *, named: bool, category: Any) -> None:
    text = component.get("text")
    if category == "AUTHENTICATION" and text is None:
        return  # authentication bodies are Meta's fixed text
    if not isinstance(text, str) or not text.strip():
        raise invalid_parameter("BODY text is required.")
    if len(text) > 1024:
        raise _create_error(2388040, "Field too long", "BODY text is longer than 1024 characters.")
    stripped = text.strip()
    if stripped.startswith("{{") or stripped.endswith("}}"):
        raise _create_error(
            2388299, "Leading or trailing variable", "BODY must not start or end with a variable."
        )
    found = variables(text)
    if found and len(_VAR_RE.sub("", text).split()) < 2 * len(found):
        raise _create_error(
            2388293, "Too many variables", "BODY has too many variables for its length."
        )
    example = component.get("example") or {}
    key = "body_text_named_params" if named else "body_text"
    _check_vars(text, "BODY", named=named, example=example.get(key))


def _header(component: dict[str, Any], *, named: bool, category: Any) -> None:
    fmt = str(component.get("format", "")).upper()
    if fmt not in HEADER_FORMATS:
        raise invalid_parameter("HEADER format is not valid.")
    example = component.get("example") or {}
    if fmt == "TEXT":
        text = component.get("text")
        if not isinstance(text, str) or not text.strip():
            raise invalid_parameter("HEADER text is required.")
        if len(text) > 60:
            raise _create_error(2388040, "Field too long", "HEADER text is longer than 60.")
        if len(variables(text)) > 1:
            raise _create_error(2388047, "Invalid header", "HEADER allows one variable at most.")
        key = "header_text_named_params" if named else "header_text"
        _check_vars(text, "HEADER", named=named, example=example.get(key))
    elif fmt in ("IMAGE", "VIDEO", "DOCUMENT", "GIF") and not example.get("header_handle"):
        raise invalid_parameter(f"HEADER of format {fmt} needs example.header_handle.")


def _footer(component: dict[str, Any], *, named: bool, category: Any) -> None:
    if category == "AUTHENTICATION" and "code_expiration_minutes" in component:
        return
    text = component.get("text")
    if not isinstance(text, str) or not text.strip():
        raise invalid_parameter("FOOTER text is required.")
    if len(text) > 60 or variables(text):
        raise _create_error(
            2388073, "Invalid footer", "FOOTER must be at most 60 characters, with no variables."
        )


def _buttons(component: dict[str, Any], *, named: bool, category: Any) -> None:
    buttons = component.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 10:
        raise invalid_parameter("BUTTONS needs 1 to 10 buttons.")
    kinds = [str(b.get("type", "")).upper() for b in buttons]
    for kind, limit in _BUTTON_LIMITS.items():
        if kinds.count(kind) > limit:
            raise invalid_parameter(f"At most {limit} {kind} buttons are allowed.")
    quick = [i for i, k in enumerate(kinds) if k == "QUICK_REPLY"]
    if quick and quick != list(range(quick[0], quick[0] + len(quick))):
        raise invalid_parameter("QUICK_REPLY buttons must be grouped together.")
    for button in buttons:
        text = button.get("text")
        if text is not None and len(text) > 25:
            raise _create_error(2388040, "Field too long", "Button text is longer than 25.")


_COMPONENT_CHECKS = {"BODY": _body, "HEADER": _header, "FOOTER": _footer, "BUTTONS": _buttons}


# ---- send ------------------------------------------------------------------------------------


def _count_error(where: str, got: int, expected: int) -> GraphError:
    return GraphError(
        132000,
        "Number of parameters does not match the expected number of params",
        details=f"{where}: number of localizable_params ({got}) does not match the expected "
        f"number of params ({expected})",
    )


def _format_error(where: str, detail: str) -> GraphError:
    return GraphError(
        132012,
        "Parameter format does not match format in the created template",
        details=f"{where}: {detail}",
    )


def _component(template: Template, kind: str) -> dict[str, Any] | None:
    for component in template.components:
        if str(component.get("type", "")).upper() == kind:
            return component
    return None


def _sent_params(sent: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    for component in sent:
        if str(component.get("type", "")).lower() == kind:
            return list(component.get("parameters") or [])
    return []


def check_send(template: Template, sent: list[dict[str, Any]]) -> str:
    """Match a send's components against the template; returns the rendered body text."""
    named = template.parameter_format == "NAMED"
    _check_header(template, _sent_params(sent, "header"), named)
    body = _component(template, "BODY") or {}
    # An authentication template's body is WhatsApp's own text with one value: the code.
    expected = ["1"] if template.category == "AUTHENTICATION" else variables(body.get("text", ""))
    values = _match_text_params(
        "body", list(dict.fromkeys(expected)), _sent_params(sent, "body"), named
    )
    _check_buttons(template, [c for c in sent if str(c.get("type", "")).lower() == "button"])
    rendered = _VAR_RE.sub(lambda m: values.get(m.group(1), m.group(0)), body.get("text", ""))
    if len(rendered) > 1024:
        raise GraphError(132005, "Translated text too long", details="Hydrated text exceeds 1024.")
    return rendered


def _param_text(param: dict[str, Any], where: str) -> str:
    kind = param.get("type")
    if kind == "text" and isinstance(param.get("text"), str):
        return param["text"]
    if kind in ("currency", "date_time") and isinstance(param.get(kind), dict):
        return str(param[kind].get("fallback_value", ""))
    raise _format_error(where, f"Format mismatch, expected TEXT, received {str(kind).upper()}")


def _match_text_params(
    where: str, expected: list[str], params: list[dict[str, Any]], named: bool
) -> dict[str, str]:
    if len(params) != len(expected):
        raise _count_error(where, len(params), len(expected))
    if not named:
        if any("parameter_name" in p for p in params):
            raise _format_error(where, "parameter_name is only valid for NAMED templates")
        return {str(i + 1): _param_text(p, where) for i, p in enumerate(params)}
    values: dict[str, str] = {}
    for param in params:
        name = param.get("parameter_name")
        if not name:
            raise _format_error(where, "parameter_name is required for NAMED templates")
        values[name] = _param_text(param, where)
    if set(values) != set(expected):
        raise _count_error(where, len(set(values) & set(expected)), len(expected))
    return values


def _check_header(template: Template, params: list[dict[str, Any]], named: bool) -> None:
    header = _component(template, "HEADER")
    if header is None:
        if params:
            raise _count_error("header", len(params), 0)
        return
    fmt = str(header.get("format", "TEXT")).upper()
    if fmt == "TEXT":
        _match_text_params("header", variables(header.get("text", "")), params, named)
        return
    expected = fmt.lower()
    received = params[0].get("type") if params else None
    if len(params) != 1 or received != expected or not isinstance(params[0].get(expected), dict):
        raise _format_error(
            "header", f"Format mismatch, expected {fmt}, received {str(received).upper()}"
        )


_SUB_TYPES = {
    "QUICK_REPLY": "quick_reply",
    "URL": "url",
    "COPY_CODE": "copy_code",
    "FLOW": "flow",
    "OTP": "url",
    "CATALOG": "catalog",
    "MPM": "mpm",
}


def _required_button_params(button: dict[str, Any]) -> bool:
    kind = str(button.get("type", "")).upper()
    if kind == "URL":
        return "{{" in str(button.get("url", ""))
    return kind in ("COPY_CODE", "OTP")


def _check_buttons(template: Template, sent: list[dict[str, Any]]) -> None:
    component = _component(template, "BUTTONS")
    buttons = (component or {}).get("buttons") or []
    given: set[int] = set()
    for item in sent:
        try:
            index = int(item["index"])
        except (KeyError, TypeError, ValueError):
            raise _format_error("buttons", "index must be an integer") from None
        if not 0 <= index < len(buttons):
            raise _count_error(f"button at index {index}", 1, 0)
        expected = _SUB_TYPES.get(str(buttons[index].get("type", "")).upper())
        if str(item.get("sub_type", "")).lower() != expected:  # any case (cloud-api.md §10)
            raise _format_error(
                f"button at index {index}",
                f"sub_type {item.get('sub_type')!r} does not match the template's {expected!r}",
            )
        given.add(index)
    for index, button in enumerate(buttons):
        if _required_button_params(button) and index not in given:
            raise _count_error(f"button at index {index}", 0, 1)
