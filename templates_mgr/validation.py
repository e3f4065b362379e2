"""Meta's template rules, checked before submission (cloud-api.md §4.2-4.3).

``validate(draft)`` returns every ``Violation`` at once, each with the ``field`` an editor
shows it next to (a stable path: ``"name"``, ``"header.text"``, ``"body.example"``,
``"buttons.2.url"``…), a stable ``code`` for programs, and a plain-language ``message``
for the admin. An empty list means Meta's automatic checks should pass; Meta's human
review can still reject (the pre-screen, ``templates_mgr.prescreen``, catches what it can
of that). The one rule that needs the database — a name unique per WABA and language — is
``templates_mgr.services.validate_draft``.

The rules mirror what the simulator enforces on create (messaging/simulator/templates.py),
and are a little stricter where Meta's documentation is (copy-code buttons in marketing
templates only; a URL button's variable only at the end of the link).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from templates_mgr.drafts import (
    BUTTON_TYPES,
    CATEGORIES,
    HEADER_FORMATS,
    MEDIA_HEADER_FORMATS,
    NAMED,
    OTP_TYPES,
    POSITIONAL,
    TemplateDraft,
)
from templates_mgr.variables import ANY_VARIABLE, NAMED_PARAM, VARIABLE

NAME_MAX = 512
HEADER_TEXT_MAX = 60
BODY_MAX = 1024
FOOTER_MAX = 60
BUTTON_TEXT_MAX = 25
BUTTONS_MAX = 10
URL_MAX = 2000
PHONE_MAX = 20
CODE_EXPIRATION = (1, 90)
_NAME = re.compile(r"^[a-z0-9_]+$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Za-z]{2,4})?$")
_TOPIC = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_BUTTON_LIMITS = {"URL": 2, "PHONE_NUMBER": 1, "COPY_CODE": 1, "QUICK_REPLY": 10, "FLOW": 1}
_BUTTON_WORDS = {
    "URL": "link",
    "PHONE_NUMBER": "phone number",
    "COPY_CODE": "copy code",
    "QUICK_REPLY": "quick reply",
    "FLOW": "form (flow)",
}
_KNOWN_COMPONENTS = ("HEADER", "BODY", "FOOTER", "BUTTONS")


@dataclass(frozen=True)
class Violation:
    field: str
    code: str
    message: str


class _Collector:
    def __init__(self) -> None:
        self.found: list[Violation] = []

    def add(self, field: str, code: str, message: str) -> None:
        self.found.append(Violation(field, code, message))


def validate(draft: TemplateDraft) -> list[Violation]:
    """Every rule ``draft`` breaks (empty: it may be submitted)."""
    out = _Collector()
    _check_identity(draft, out)
    if not _check_components_shape(draft, out):
        return out.found
    if draft.category == "AUTHENTICATION":
        _check_authentication(draft, out)
    else:
        _check_header(draft, out)
        _check_body(draft, out)
        _check_footer(draft, out)
    _check_buttons(draft, out)
    return out.found


def violations_by_field(violations: list[Violation]) -> dict[str, list[str]]:
    """Messages grouped by field, for a form that shows each next to its input."""
    grouped: dict[str, list[str]] = {}
    for violation in violations:
        grouped.setdefault(violation.field, []).append(violation.message)
    return grouped


# ---- identity -------------------------------------------------------------------------------


def _check_identity(draft: TemplateDraft, out: _Collector) -> None:
    name = draft.name or ""
    if not name:
        out.add("name", "name_required", "Give the template a name.")
    elif len(name) > NAME_MAX:
        out.add("name", "name_too_long", f"The name can be at most {NAME_MAX} characters.")
    elif not _NAME.match(name):
        out.add(
            "name",
            "name_format",
            "Use only lowercase letters, digits and underscores in the name "
            "(for example permit_ready).",
        )
    if not draft.language:
        out.add("language", "language_required", "Choose the template's language.")
    elif not _LANGUAGE.match(draft.language):
        out.add(
            "language",
            "language_format",
            "Use a WhatsApp language code such as en_US or es.",
        )
    if draft.category not in CATEGORIES:
        out.add(
            "category",
            "category_invalid",
            "Choose a category: utility, marketing or authentication.",
        )
    if draft.parameter_format not in (POSITIONAL, NAMED):
        out.add(
            "parameter_format",
            "parameter_format_invalid",
            "Variables are either numbered ({{1}}) or named ({{first_name}}).",
        )
    if draft.topic and not _TOPIC.match(draft.topic):
        out.add("topic", "topic_format", "Choose an opt-in topic from the list.")


def _check_components_shape(draft: TemplateDraft, out: _Collector) -> bool:
    kinds: list[str] = []
    for component in draft.components:
        if not isinstance(component, Mapping):
            out.add("components", "component_invalid", "A part of the template is malformed.")
            return False
        kinds.append(str(component.get("type", "")).upper())
    unknown = [k for k in kinds if k not in _KNOWN_COMPONENTS]
    if unknown:
        out.add(
            "components",
            "component_unknown",
            f"This editor does not support “{unknown[0][:30]}” parts of a template.",
        )
    for kind in _KNOWN_COMPONENTS:
        if kinds.count(kind) > 1:
            out.add("components", "component_repeated", f"A template has one {kind.lower()}.")
    if "BODY" not in kinds:
        out.add("body.text", "body_required", "Write the message's text.")
        return False
    return not unknown


# ---- variables ------------------------------------------------------------------------------


def _variables(draft: TemplateDraft, text: str, where: str, out: _Collector) -> list[str]:
    """The well-formed names of ``text``; malformed or wrong-style ones are reported."""
    names: list[str] = []
    for raw in ANY_VARIABLE.findall(text):
        name = raw.strip()
        if draft.named:
            if not NAMED_PARAM.match(name):
                out.add(
                    where,
                    "variable_name",
                    f"“{{{{{raw[:30]}}}}}” is not a valid variable name: use lowercase "
                    "letters, digits and underscores, starting with a letter "
                    "(for example {{first_name}}).",
                )
                continue
        elif not name.isdigit():
            out.add(
                where,
                "variable_not_numbered",
                f"“{{{{{raw[:30]}}}}}”: this template numbers its variables ({{{{1}}}}, "
                "{{2}}…); switch it to named variables to use names.",
            )
            continue
        names.append(name)
    return list(dict.fromkeys(names))


def _check_sequential(names: list[str], where: str, out: _Collector) -> None:
    numbers = sorted({int(n) for n in names})
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        expected = ", ".join(f"{{{{{i}}}}}" for i in range(1, len(numbers) + 1))
        out.add(
            where,
            "variables_not_sequential",
            f"Number the variables in order with no gaps, starting at {{{{1}}}} ({expected}).",
        )


def _check_placement(text: str, where: str, out: _Collector) -> None:
    stripped = text.strip()
    if stripped.startswith("{{") or stripped.endswith("}}"):
        out.add(
            where,
            "variable_at_edge",
            "The text cannot start or end with a variable: add words before or after it.",
        )
    if re.search(r"\}\}\s*\{\{", text):
        out.add(
            where,
            "variables_adjacent",
            "Two variables are next to each other: separate them with some words.",
        )


def _samples(component: Mapping[str, Any], key: str, named: bool) -> dict[str, str]:
    """Sample values by variable name from the component's ``example``."""
    example = component.get("example")
    if not isinstance(example, Mapping):
        return {}
    if named:
        items = example.get(f"{key}_named_params")
        if not isinstance(items, list):
            return {}
        return {
            str(item.get("param_name", "")): str(item.get("example", "") or "")
            for item in items
            if isinstance(item, Mapping)
        }
    raw = example.get(key)
    if isinstance(raw, list) and raw and isinstance(raw[0], list):
        raw = raw[0]  # body_text is a list holding one list
    if not isinstance(raw, list):
        return {}
    return {str(i + 1): str(value or "") for i, value in enumerate(raw)}


def _check_samples(names: list[str], samples: dict[str, str], where: str, out: _Collector) -> None:
    missing = [n for n in names if not samples.get(n, "").strip()]
    if missing:
        listed = ", ".join(f"{{{{{n}}}}}" for n in missing)
        out.add(
            where,
            "sample_missing",
            f"Give a sample value for {listed}: Meta's reviewers read the message with them.",
        )


# ---- header, body, footer -------------------------------------------------------------------


def _check_header(draft: TemplateDraft, out: _Collector) -> None:
    header = draft.header
    if header is None:
        return
    fmt = str(header.get("format", "")).upper()
    if fmt not in HEADER_FORMATS:
        out.add(
            "header.format",
            "header_format",
            "Choose a header: text, image, video, document or location.",
        )
        return
    if fmt == "TEXT":
        text = header.get("text")
        if not isinstance(text, str) or not text.strip():
            out.add("header.text", "header_text_required", "Write the header's text.")
            return
        if len(text) > HEADER_TEXT_MAX:
            out.add(
                "header.text",
                "header_too_long",
                f"The header can be at most {HEADER_TEXT_MAX} characters (it has {len(text)}).",
            )
        names = _variables(draft, text, "header.text", out)
        if len(ANY_VARIABLE.findall(text)) > 1:
            out.add("header.text", "header_variables", "The header can have one variable at most.")
        if not draft.named:
            _check_sequential(names, "header.text", out)
        _check_samples(names, _samples(header, "header_text", draft.named), "header.example", out)
    elif fmt in MEDIA_HEADER_FORMATS:
        handles = (
            (header.get("example") or {}).get("header_handle")
            if isinstance(header.get("example"), Mapping)
            else None
        )
        if not (isinstance(handles, list) and handles and str(handles[0]).strip()):
            out.add(
                "header.example",
                "header_sample_missing",
                f"Upload a sample {fmt.lower()} for the header: Meta reviews the template with it.",
            )
    elif fmt == "LOCATION" and draft.category not in ("UTILITY", "MARKETING"):
        out.add(
            "header.format",
            "location_header_category",
            "A location header is only allowed in utility and marketing templates.",
        )


def _check_body(draft: TemplateDraft, out: _Collector) -> None:
    body = draft.body or {}
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        out.add("body.text", "body_required", "Write the message's text.")
        return
    if len(text) > BODY_MAX:
        out.add(
            "body.text",
            "body_too_long",
            f"The message can be at most {BODY_MAX} characters (it has {len(text)}).",
        )
    names = _variables(draft, text, "body.text", out)
    if not draft.named:
        _check_sequential(names, "body.text", out)
    _check_placement(text, "body.text", out)
    occurrences = len(ANY_VARIABLE.findall(text))
    words = len(ANY_VARIABLE.sub("", text).split())
    if occurrences and words < 2 * occurrences:
        out.add(
            "body.text",
            "too_many_variables",
            f"There are too many variables for such a short message: with {occurrences} "
            f"variable(s) write at least {2 * occurrences} other words.",
        )
    _check_samples(names, _samples(body, "body_text", draft.named), "body.example", out)


def _check_footer(draft: TemplateDraft, out: _Collector) -> None:
    footer = draft.footer
    if footer is None:
        return
    text = footer.get("text")
    if not isinstance(text, str) or not text.strip():
        out.add("footer.text", "footer_text_required", "Write the footer's text or remove it.")
        return
    if len(text) > FOOTER_MAX:
        out.add(
            "footer.text",
            "footer_too_long",
            f"The footer can be at most {FOOTER_MAX} characters (it has {len(text)}).",
        )
    if ANY_VARIABLE.search(text):
        out.add("footer.text", "footer_variables", "The footer cannot have variables.")


# ---- authentication -------------------------------------------------------------------------


def _check_authentication(draft: TemplateDraft, out: _Collector) -> None:
    if draft.header is not None:
        out.add(
            "header.format",
            "authentication_header",
            "Authentication templates have no header: WhatsApp writes their text.",
        )
    body = draft.body or {}
    if body.get("text"):
        out.add(
            "body.text",
            "authentication_body_text",
            "Authentication templates have no text of your own: WhatsApp shows "
            "“<code> is your verification code.”",
        )
    recommendation = body.get("add_security_recommendation", False)
    if not isinstance(recommendation, bool):
        out.add(
            "body.add_security_recommendation",
            "security_recommendation",
            "Choose whether to add the security advice (“For your security, do not share "
            "this code.”).",
        )
    footer = draft.footer
    if footer is not None:
        if footer.get("text"):
            out.add(
                "footer.text",
                "authentication_footer_text",
                "Authentication templates have no footer text; set the code's expiry instead.",
            )
        minutes = footer.get("code_expiration_minutes")
        low, high = CODE_EXPIRATION
        if minutes is not None and not (
            isinstance(minutes, int) and not isinstance(minutes, bool) and low <= minutes <= high
        ):
            out.add(
                "footer.code_expiration_minutes",
                "code_expiration",
                f"The code's expiry must be a whole number of minutes from {low} to {high}.",
            )
    otp = [i for i, b in enumerate(draft.buttons) if str(b.get("type", "")).upper() == "OTP"]
    if len(otp) != 1 or len(draft.buttons) != 1:
        out.add(
            "buttons",
            "authentication_buttons",
            "An authentication template has exactly one button: the one-time code button "
            "(copy code, one-tap or zero-tap autofill).",
        )


def _check_otp_button(
    draft: TemplateDraft, index: int, button: Mapping[str, Any], out: _Collector
) -> None:
    where = f"buttons.{index}"
    if draft.category != "AUTHENTICATION":
        out.add(
            f"{where}.otp_type",
            "otp_outside_authentication",
            "One-time code buttons belong in authentication templates only.",
        )
        return
    otp_type = str(button.get("otp_type", "")).upper()
    if otp_type not in OTP_TYPES:
        out.add(
            f"{where}.otp_type",
            "otp_type",
            "Choose how the code reaches the app: copy code, one-tap or zero-tap autofill.",
        )
        return
    if otp_type in ("ONE_TAP", "ZERO_TAP"):
        apps = button.get("supported_apps")
        pairs = [a for a in apps if isinstance(a, Mapping)] if isinstance(apps, list) else [button]
        if not pairs or not all(p.get("package_name") and p.get("signature_hash") for p in pairs):
            out.add(
                f"{where}.package_name",
                "otp_app",
                "Autofill needs your Android app's package name and signature hash.",
            )
    if otp_type == "ZERO_TAP" and button.get("zero_tap_terms_accepted") is not True:
        out.add(
            f"{where}.zero_tap_terms_accepted",
            "zero_tap_terms",
            "Zero-tap autofill needs Meta's zero-tap terms accepted.",
        )
    _check_button_text(button, where, out, required=False)


# ---- buttons --------------------------------------------------------------------------------


def _check_buttons(draft: TemplateDraft, out: _Collector) -> None:
    component = draft.component("BUTTONS")
    if component is None:
        return
    raw = component.get("buttons")
    if not isinstance(raw, list) or not raw:
        out.add("buttons", "buttons_empty", "Add at least one button or remove the buttons.")
        return
    if len(raw) > BUTTONS_MAX:
        out.add(
            "buttons", "too_many_buttons", f"A template can have at most {BUTTONS_MAX} buttons."
        )
    buttons = draft.buttons
    kinds = [str(b.get("type", "")).upper() for b in buttons]
    for kind, limit in _BUTTON_LIMITS.items():
        if kinds.count(kind) > limit:
            word = _BUTTON_WORDS[kind]
            out.add(
                "buttons",
                f"too_many_{kind.lower()}",
                f"A template can have at most {limit} {word} button{'s' if limit > 1 else ''}.",
            )
    quick = [i for i, k in enumerate(kinds) if k == "QUICK_REPLY"]
    if quick and quick != list(range(quick[0], quick[0] + len(quick))):
        out.add(
            "buttons",
            "quick_replies_not_grouped",
            "Keep the quick-reply buttons together (before or after the other buttons).",
        )
    for index, (kind, button) in enumerate(zip(kinds, buttons, strict=True)):
        where = f"buttons.{index}"
        if kind not in BUTTON_TYPES:
            out.add(f"{where}.type", "button_type", "Choose the kind of button.")
        elif kind == "OTP":
            _check_otp_button(draft, index, button, out)
        elif kind == "QUICK_REPLY":
            _check_button_text(button, where, out)
        elif kind == "URL":
            _check_button_text(button, where, out)
            _check_url_button(button, where, out)
        elif kind == "PHONE_NUMBER":
            _check_button_text(button, where, out)
            _check_phone_button(button, where, out)
        elif kind == "COPY_CODE":
            _check_copy_code(draft, button, where, out)
        elif kind == "FLOW":
            _check_button_text(button, where, out)
            _check_flow_button(button, where, out)


def _check_button_text(
    button: Mapping[str, Any], where: str, out: _Collector, *, required: bool = True
) -> None:
    text = button.get("text")
    if text is None or (isinstance(text, str) and not text.strip()):
        if required:
            out.add(f"{where}.text", "button_text_required", "Write the button's label.")
        return
    if not isinstance(text, str) or len(text) > BUTTON_TEXT_MAX:
        out.add(
            f"{where}.text",
            "button_text_too_long",
            f"A button's label can be at most {BUTTON_TEXT_MAX} characters.",
        )
    elif ANY_VARIABLE.search(text):
        out.add(f"{where}.text", "button_text_variables", "A button's label cannot have variables.")


def _check_url_button(button: Mapping[str, Any], where: str, out: _Collector) -> None:
    url = button.get("url")
    if not isinstance(url, str) or not url.strip():
        out.add(f"{where}.url", "url_required", "Give the link the button opens.")
        return
    if len(url) > URL_MAX or not re.match(r"^https?://[^\s/{}]+\.[^\s/{}]+", url):
        out.add(
            f"{where}.url",
            "url_invalid",
            "Give a full web address starting with https:// (for example https://city.gov/permits).",
        )
    found = ANY_VARIABLE.findall(url)
    if not found:
        return
    if len(found) > 1:
        out.add(f"{where}.url", "url_variables", "A link can have one variable, at its end.")
        return
    if not url.rstrip().endswith("}}"):
        out.add(
            f"{where}.url",
            "url_variable_not_at_end",
            "The link's variable must be at its very end (https://city.gov/case/{{1}}).",
        )
    if found[0].strip() != "1":
        out.add(f"{where}.url", "url_variable_name", "Write the link's variable as {{1}}.")
    example = button.get("example")
    sample = example[0] if isinstance(example, list) and example else example
    if not isinstance(sample, str) or not sample.strip():
        out.add(
            f"{where}.example",
            "sample_missing",
            "Give a sample for the end of the link (for example a case number).",
        )


def _check_phone_button(button: Mapping[str, Any], where: str, out: _Collector) -> None:
    number = str(button.get("phone_number") or "")
    digits = re.sub(r"[\s()+.-]", "", number)
    if not digits.isdigit() or not 8 <= len(digits) <= PHONE_MAX:
        out.add(
            f"{where}.phone_number",
            "phone_invalid",
            "Give the phone number with its country code, for example +1 555 010 0100.",
        )


def _check_copy_code(
    draft: TemplateDraft, button: Mapping[str, Any], where: str, out: _Collector
) -> None:
    if draft.category != "MARKETING":
        out.add(
            f"{where}.type",
            "copy_code_not_marketing",
            "A copy-code (coupon) button is only allowed in marketing templates.",
        )
    example = button.get("example")
    sample = example[0] if isinstance(example, list) and example else example
    if not isinstance(sample, str) or not sample.strip():
        out.add(f"{where}.example", "sample_missing", "Give a sample code (for example FALL25).")
    elif len(sample) > 15:
        out.add(f"{where}.example", "copy_code_too_long", "A code can be at most 15 characters.")


def _check_flow_button(button: Mapping[str, Any], where: str, out: _Collector) -> None:
    if not (button.get("flow_id") or button.get("flow_name") or button.get("flow_json")):
        out.add(f"{where}.flow_id", "flow_required", "Choose the WhatsApp form (flow) to open.")
    action = str(button.get("flow_action", "navigate")).lower()
    if action not in ("navigate", "data_exchange"):
        out.add(f"{where}.flow_action", "flow_action", "A form opens by navigate or data_exchange.")
    elif action == "navigate" and not button.get("navigate_screen"):
        out.add(
            f"{where}.navigate_screen",
            "flow_screen_required",
            "Name the form's first screen (for example WELCOME).",
        )


__all__ = ["VARIABLE", "Violation", "validate", "violations_by_field"]
