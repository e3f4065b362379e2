"""The template editor's fields: POSTed form data ⇄ a ``TemplateDraft`` (Meta's
create-request shape), and the field paths of ``validation`` ⇄ the inputs that show them.

The editor is one plain HTML form whose fields are flat names (``header_text``,
``sample_body_1``, ``button_0_url``…), so it works without JavaScript: adding, removing or
moving a button and "Refresh the sample fields" are submit buttons (``action``) that
re-render the form with what was typed. Every value is bounded here (``FIELD_MAX``,
``MAX_BUTTONS``): a hostile POST gets named problems, never an exception.

``EditorData`` is the form's state; ``EditorData.from_post`` reads it, ``from_template``
fills it from a stored translation, ``draft()`` turns it into the service's ``TemplateDraft``
and ``preview_template()`` into an unsaved ``MessageTemplate`` for ``render_preview``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from templates_mgr.drafts import TemplateDraft, compose
from templates_mgr.models import MessageTemplate
from templates_mgr.variables import VARIABLE, positional_order, variable_names

# Longer than any limit of Meta's (a body is 1,024 characters): what a field may carry before
# we stop reading it. Validation names Meta's own limits.
FIELD_MAX = 4096
MAX_BUTTONS = 10  # Meta's limit for a template
MAX_SAMPLES = 40  # variables with a sample field (validation refuses far fewer)
_VARIABLE = VARIABLE

HEADER_FORMATS = [
    ("NONE", "No header"),
    ("TEXT", "Text"),
    ("IMAGE", "Image"),
    ("VIDEO", "Video"),
    ("DOCUMENT", "Document (PDF)"),
    ("LOCATION", "Location"),
]
MEDIA_FORMATS = frozenset({"IMAGE", "VIDEO", "DOCUMENT"})
BUTTON_TYPES = [
    ("QUICK_REPLY", "Quick reply"),
    ("URL", "Link (website address)"),
    ("PHONE_NUMBER", "Call a phone number"),
    ("COPY_CODE", "Copy a code"),
    ("FLOW", "Open a WhatsApp Flow"),
    ("OTP", "One-time password (authentication)"),
]
OTP_TYPES = [
    ("COPY_CODE", "Copy code"),
    ("ONE_TAP", "One-tap autofill (Android)"),
    ("ZERO_TAP", "Zero-tap (Android)"),
]
FLOW_ACTIONS = [("navigate", "Open a screen"), ("data_exchange", "Exchange data")]
# Meta's codes for the languages US agencies serve most; English and Spanish first.
LANGUAGES = [
    ("en_US", "English (US)"),
    ("en", "English"),
    ("es", "Spanish"),
    ("es_MX", "Spanish (Mexico)"),
    ("es_ES", "Spanish (Spain)"),
    ("zh_CN", "Chinese (simplified)"),
    ("zh_TW", "Chinese (traditional)"),
    ("vi", "Vietnamese"),
    ("tl", "Filipino"),
    ("ko", "Korean"),
    ("ar", "Arabic"),
    ("ru", "Russian"),
    ("fr", "French"),
    ("pt_BR", "Portuguese (Brazil)"),
    ("ht", "Haitian Creole"),
]
LANGUAGE_NAMES = dict(LANGUAGES)
CATEGORIES = list(MessageTemplate.Category.choices)
PARAMETER_FORMATS = list(MessageTemplate.ParameterFormat.choices)


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


@dataclass
class Problem:
    """A problem found while reading the form (before validation): like a ``Violation``."""

    field: str
    code: str
    message: str


@dataclass
class ButtonData:
    type: str = "QUICK_REPLY"
    text: str = ""
    url: str = ""
    example: str = ""  # a URL button's sample end of the link; a copy-code button's code
    phone_number: str = ""
    flow_id: str = ""
    flow_action: str = "navigate"
    navigate_screen: str = ""
    otp_type: str = "COPY_CODE"
    package_name: str = ""
    signature_hash: str = ""
    zero_tap_terms_accepted: bool = False

    @property
    def dynamic(self) -> bool:
        return self.type == "URL" and bool(_VARIABLE.search(self.url))

    def component(self) -> dict[str, Any]:
        kind = self.type
        if kind == "URL":
            button: dict[str, Any] = {"type": "URL", "text": self.text, "url": self.url}
            if self.dynamic:
                button["example"] = [self.example]
            return button
        if kind == "PHONE_NUMBER":
            return {"type": kind, "text": self.text, "phone_number": self.phone_number}
        if kind == "COPY_CODE":
            return {"type": kind, "example": self.example}
        if kind == "FLOW":
            button = {"type": kind, "text": self.text, "flow_id": self.flow_id}
            button["flow_action"] = self.flow_action
            if self.flow_action == "navigate" and self.navigate_screen:
                button["navigate_screen"] = self.navigate_screen
            return button
        if kind == "OTP":
            button = {"type": kind, "otp_type": self.otp_type}
            if self.text:
                button["text"] = self.text
            if self.otp_type == "ZERO_TAP":
                button["zero_tap_terms_accepted"] = self.zero_tap_terms_accepted
            if self.otp_type in ("ONE_TAP", "ZERO_TAP"):
                button["supported_apps"] = [
                    {"package_name": self.package_name, "signature_hash": self.signature_hash}
                ]
            return button
        return {"type": "QUICK_REPLY", "text": self.text}

    @classmethod
    def from_component(cls, button: Mapping[str, Any]) -> ButtonData:
        kind = str(button.get("type", "QUICK_REPLY")).upper()
        example = button.get("example", "")
        if isinstance(example, list):
            example = example[0] if example else ""
        apps = button.get("supported_apps")
        app = apps[0] if isinstance(apps, list) and apps and isinstance(apps[0], dict) else {}
        return cls(
            type=kind if kind in dict(BUTTON_TYPES) else "QUICK_REPLY",
            text=str(button.get("text", "")),
            url=str(button.get("url", "")),
            example=str(example),
            phone_number=str(button.get("phone_number", "")),
            flow_id=str(button.get("flow_id", "")),
            flow_action=str(button.get("flow_action", "navigate")),
            navigate_screen=str(button.get("navigate_screen", "")),
            otp_type=str(button.get("otp_type", "COPY_CODE")).upper(),
            package_name=str(app.get("package_name", "")),
            signature_hash=str(app.get("signature_hash", "")),
            zero_tap_terms_accepted=button.get("zero_tap_terms_accepted") is True,
        )


def variables_in(text: str) -> list[str]:
    """Each variable of ``text`` once, in order of appearance, as the validator reads them
    (a malformed one is the validator's to name)."""
    return variable_names(text)[:MAX_SAMPLES]


@dataclass
class EditorData:
    name: str = ""
    language: str = "en_US"
    category: str = MessageTemplate.Category.UTILITY
    parameter_format: str = MessageTemplate.ParameterFormat.POSITIONAL
    topic: str = ""
    header_format: str = "NONE"
    header_text: str = ""
    header_sample: str = ""
    header_handle: str = ""  # Meta's handle of the uploaded sample (resumable upload)
    header_filename: str = ""
    body_text: str = ""
    body_samples: dict[str, str] = field(default_factory=dict)
    footer_text: str = ""
    security_recommendation: bool = False  # authentication templates
    code_expiration_minutes: str = ""  # authentication templates
    buttons: list[ButtonData] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    # --- reading the form ----------------------------------------------------------------

    @classmethod
    def from_post(cls, data: Mapping[str, Any]) -> EditorData:
        problems: list[Problem] = []

        def text(key: str, path: str) -> str:
            value = data.get(key, "")
            value = value if isinstance(value, str) else ""
            # PostgreSQL text cannot hold NUL; a carriage return is the browser's newline.
            value = value.replace("\x00", "").replace("\r\n", "\n")
            if len(value) > FIELD_MAX:
                problems.append(
                    Problem(path, "too_long", f"This is far too long ({len(value):,} characters).")
                )
                value = value[:FIELD_MAX]
            return value

        def choice(key: str, path: str, choices: list[tuple[str, str]], default: str) -> str:
            value = text(key, path).strip()
            if value in dict(choices):
                return value
            if value:
                problems.append(Problem(path, "invalid_choice", "Choose one of the options."))
            return default

        editor = cls(
            name=text("name", "name").strip(),
            language=text("language", "language").strip(),
            category=choice("category", "category", CATEGORIES, MessageTemplate.Category.UTILITY),
            parameter_format=choice(
                "parameter_format",
                "parameter_format",
                PARAMETER_FORMATS,
                MessageTemplate.ParameterFormat.POSITIONAL,
            ),
            topic=text("topic", "topic").strip(),
            header_format=choice("header_format", "header.format", HEADER_FORMATS, "NONE"),
            header_text=text("header_text", "header.text"),
            header_sample=text("sample_header", "header.example"),
            header_handle=text("header_handle", "header.example").strip(),
            header_filename=text("header_filename", "header.example").strip()[:200],
            body_text=text("body_text", "body.text"),
            footer_text=text("footer_text", "footer.text"),
            security_recommendation=bool(data.get("security_recommendation")),
            code_expiration_minutes=text(
                "code_expiration_minutes", "footer.code_expiration"
            ).strip()[:8],
        )
        if editor.code_expiration_minutes and not editor.code_expiration_minutes.isdigit():
            problems.append(
                Problem(
                    "footer.code_expiration", "not_a_number", "Enter a whole number of minutes."
                )
            )
        editor.body_samples = {
            name: text(f"sample_body_{name}", "body.example")
            for name in variables_in(editor.body_text)
        }
        count = _int(data.get("button_count"), 0)
        if count > MAX_BUTTONS:
            problems.append(
                Problem("buttons", "too_many", f"A template has at most {MAX_BUTTONS} buttons.")
            )
        for index in range(min(count, MAX_BUTTONS)):
            prefix = f"button_{index}_"
            path = f"buttons.{index}"
            editor.buttons.append(
                ButtonData(
                    type=choice(prefix + "type", f"{path}.type", BUTTON_TYPES, "QUICK_REPLY"),
                    text=text(prefix + "text", f"{path}.text"),
                    url=text(prefix + "url", f"{path}.url").strip(),
                    example=text(prefix + "example", f"{path}.example").strip(),
                    phone_number=text(prefix + "phone_number", f"{path}.phone_number").strip(),
                    flow_id=text(prefix + "flow_id", f"{path}.flow_id").strip(),
                    flow_action=choice(
                        prefix + "flow_action", f"{path}.flow_action", FLOW_ACTIONS, "navigate"
                    ),
                    navigate_screen=text(prefix + "navigate_screen", f"{path}.navigate_screen"),
                    otp_type=choice(
                        prefix + "otp_type", f"{path}.otp_type", OTP_TYPES, "COPY_CODE"
                    ),
                    package_name=text(prefix + "package_name", f"{path}.package_name").strip(),
                    signature_hash=text(
                        prefix + "signature_hash", f"{path}.signature_hash"
                    ).strip(),
                    zero_tap_terms_accepted=bool(data.get(prefix + "zero_tap_terms_accepted")),
                )
            )
        editor.problems = problems
        return editor

    def apply(self, action: str) -> str | None:
        """A no-JavaScript editing step (``action`` of the submit button pressed); returns
        the id of the input to put the focus on, or None for an action not of this kind."""
        if action == "add_button":
            if len(self.buttons) >= MAX_BUTTONS:
                self.problems.append(
                    Problem("buttons", "too_many", f"A template has at most {MAX_BUTTONS} buttons.")
                )
                return "add-button"
            kind = (
                "OTP" if self.category == MessageTemplate.Category.AUTHENTICATION else "QUICK_REPLY"
            )
            self.buttons.append(ButtonData(type=kind))
            return f"id_button_{len(self.buttons) - 1}_type"
        verb, _, number = action.rpartition("_")
        index = _int(number, -1)
        if not 0 <= index < len(self.buttons):
            return None
        if verb == "remove_button":
            del self.buttons[index]
            return "add-button"
        if verb == "button_up" and index > 0:
            self.buttons[index - 1], self.buttons[index] = (
                self.buttons[index],
                self.buttons[index - 1],
            )
            return f"id_button_{index - 1}_type"
        if verb == "button_down" and index < len(self.buttons) - 1:
            self.buttons[index + 1], self.buttons[index] = (
                self.buttons[index],
                self.buttons[index + 1],
            )
            return f"id_button_{index + 1}_type"
        return None

    # --- from a stored translation -------------------------------------------------------

    @classmethod
    def from_template(cls, template: MessageTemplate) -> EditorData:
        return cls.from_components(
            name=template.name,
            language=template.language,
            category=template.category,
            parameter_format=template.parameter_format,
            topic=template.topic,
            components=template.components if isinstance(template.components, list) else [],
        )

    @classmethod
    def from_components(
        cls,
        *,
        name: str,
        language: str,
        category: str,
        parameter_format: str,
        topic: str,
        components: list[Any],
    ) -> EditorData:
        editor = cls(
            name=name,
            language=language,
            category=category,
            parameter_format=parameter_format,
            topic=topic,
        )
        named = parameter_format == MessageTemplate.ParameterFormat.NAMED
        for component in components:
            if not isinstance(component, dict):
                continue
            kind = str(component.get("type", "")).upper()
            raw_example = component.get("example")
            example: dict[str, Any] = raw_example if isinstance(raw_example, dict) else {}
            if kind == "HEADER":
                fmt = str(component.get("format", "TEXT")).upper()
                editor.header_format = fmt if fmt in dict(HEADER_FORMATS) else "NONE"
                editor.header_text = str(component.get("text", ""))
                if fmt == "TEXT":
                    samples = _samples(example, "header_text", named)
                    editor.header_sample = next(iter(samples.values()), "") if samples else ""
                elif fmt in MEDIA_FORMATS:
                    handles = example.get("header_handle") or []
                    editor.header_handle = str(handles[0]) if handles else ""
            elif kind == "BODY":
                editor.body_text = str(component.get("text", ""))
                editor.security_recommendation = bool(component.get("add_security_recommendation"))
                samples = _samples(example, "body_text", named)
                names = variables_in(editor.body_text)
                if named:
                    editor.body_samples = {n: samples.get(n, "") for n in names}
                else:
                    values = list(samples.values())
                    editor.body_samples = {
                        n: (values[i] if i < len(values) else "") for i, n in enumerate(names)
                    }
            elif kind == "FOOTER":
                editor.footer_text = str(component.get("text", ""))
                minutes = component.get("code_expiration_minutes")
                editor.code_expiration_minutes = "" if minutes is None else str(minutes)
            elif kind == "BUTTONS":
                buttons = component.get("buttons")
                if isinstance(buttons, list):
                    editor.buttons = [
                        ButtonData.from_component(b)
                        for b in buttons[:MAX_BUTTONS]
                        if isinstance(b, dict)
                    ]
        return editor

    def as_translation(self) -> EditorData:
        """The same template for another language: same shape, the texts kept as a start."""
        return replace(self, language="", header_handle="", header_filename="", problems=[])

    # --- to the service ------------------------------------------------------------------

    @property
    def named(self) -> bool:
        return self.parameter_format == MessageTemplate.ParameterFormat.NAMED

    @property
    def authentication(self) -> bool:
        return self.category == MessageTemplate.Category.AUTHENTICATION

    def header_variables(self) -> list[str]:
        return variables_in(self.header_text) if self.header_format == "TEXT" else []

    def draft(self) -> TemplateDraft:
        """The service's draft (``drafts.compose`` assembles Meta's components)."""
        minutes = _int(self.code_expiration_minutes, -1) if self.code_expiration_minutes else None
        header_format = "" if self.header_format == "NONE" else self.header_format
        return compose(
            name=self.name,
            language=self.language,
            category=self.category,
            parameter_format=self.parameter_format,
            topic=self.topic,
            header_format=header_format,
            header_text=self.header_text,
            header_example=self.header_sample if self.header_variables() else "",
            header_handle=self.header_handle,
            body_text=self.body_text,
            body_examples=(
                dict(self.body_samples)
                if self.named
                else [self.body_samples[n] for n in positional_order(list(self.body_samples))]
            ),
            footer_text=self.footer_text,
            buttons=[button.component() for button in self.buttons],
            add_security_recommendation=self.security_recommendation,
            code_expiration_minutes=minutes if minutes is not None and minutes >= 0 else None,
        )

    def components(self) -> list[dict[str, Any]]:
        return [dict(component) for component in self.draft().components]

    def preview_template(self) -> MessageTemplate:
        """An unsaved translation for ``render_preview`` (never saved)."""
        return MessageTemplate(
            name=self.name or "new_template",
            language=self.language,
            category=self.category,
            parameter_format=self.parameter_format,
            components=self.components(),
        )

    def preview_values(self) -> dict[str, str]:
        """The samples as ``render_preview`` keys (``templates_mgr.preview``)."""
        values = {f"var_{name}": value for name, value in self.body_samples.items()}
        for name in self.header_variables():
            values[f"header_{name}"] = self.header_sample
        if self.header_format in MEDIA_FORMATS and (self.header_filename or self.header_handle):
            values["header_media"] = self.header_filename or "sample uploaded"
        for index, button in enumerate(self.buttons):
            if button.dynamic and button.example:
                values[f"button_{index}"] = button.example
        return values


def _samples(example: Mapping[str, Any], key: str, named: bool) -> dict[str, str]:
    """A component's samples by variable name (positional: "1", "2"… in order)."""
    if named:
        raw = example.get(f"{key}_named_params")
        if isinstance(raw, list):
            return {
                str(item.get("param_name", "")): str(item.get("example", ""))
                for item in raw
                if isinstance(item, dict)
            }
        return {}
    raw = example.get(key)
    if isinstance(raw, list) and raw and isinstance(raw[0], list):
        raw = raw[0]
    if isinstance(raw, list):
        return {str(i + 1): str(value) for i, value in enumerate(raw)}
    return {}


def _int(value: Any, default: int) -> int:
    try:
        return int(str(value).strip()[:6])
    except (TypeError, ValueError):
        return default


# --- where each problem shows ------------------------------------------------------------


def input_id(path: str, editor: EditorData) -> str:
    """The id of the input a validation field path (``body.example``, ``buttons.1.url``)
    belongs to: the nearest one the editor has."""
    parts = path.split(".")
    head = parts[0]
    if head == "buttons":
        if len(parts) == 1 or not parts[1].isdigit():
            return "add-button"
        index = int(parts[1])
        if index >= len(editor.buttons):
            return "add-button"
        leaf = parts[2] if len(parts) > 2 else "type"
        known = {
            "type",
            "text",
            "url",
            "example",
            "phone_number",
            "flow_id",
            "flow_action",
            "navigate_screen",
            "otp_type",
            "package_name",
            "signature_hash",
            "zero_tap_terms_accepted",
        }
        if leaf == "supported_apps":
            leaf = "package_name"
        return f"id_button_{index}_{leaf if leaf in known else 'type'}"
    if head == "header":
        leaf = parts[1] if len(parts) > 1 else "format"
        if leaf in ("example", "handle", "header_handle"):
            if editor.header_format in MEDIA_FORMATS:
                return "id_header_file"
            return "id_sample_header" if editor.header_variables() else "id_header_text"
        return (
            "id_header_text"
            if leaf == "text" and editor.header_format == "TEXT"
            else "id_header_format"
        )
    if head == "body":
        leaf = parts[1] if len(parts) > 1 else "text"
        if leaf == "example":
            names = list(editor.body_samples)
            wanted = parts[2] if len(parts) > 2 and parts[2] in editor.body_samples else None
            if wanted is None:
                wanted = next((n for n in names if not editor.body_samples[n].strip()), None)
            if wanted is None and names:
                wanted = names[0]
            return f"id_sample_body_{wanted}" if wanted else "id_body_text"
        if leaf in ("add_security_recommendation", "security_recommendation"):
            return "id_security_recommendation"
        return "id_body_text"
    if head == "footer":
        if editor.authentication:
            return "id_code_expiration_minutes"
        return "id_footer_text"
    if head in ("name", "language", "category", "parameter_format", "topic"):
        return f"id_{head}"
    return "id_name"
