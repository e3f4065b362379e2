"""Drafts for the template manager's tests: valid ones of each kind, to change one thing in."""

from __future__ import annotations

from typing import Any

from templates_mgr.drafts import TemplateDraft, compose

BODY = "Hello {{1}}, your permit {{2}} is ready for pickup at City Hall."
SAMPLES = ["Ana", "P-1042"]


def utility_draft(**changes: Any) -> TemplateDraft:
    fields: dict[str, Any] = {
        "name": "permit_ready",
        "language": "en_US",
        "category": "UTILITY",
        "body_text": BODY,
        "body_examples": SAMPLES,
        "footer_text": "City of Springfield",
    }
    fields.update(changes)
    return compose(**fields)


def named_draft(**changes: Any) -> TemplateDraft:
    fields: dict[str, Any] = {
        "name": "hearing_reminder",
        "language": "en_US",
        "category": "UTILITY",
        "parameter_format": "NAMED",
        "body_text": "Hello {{first_name}}, your hearing is on {{hearing_date}} at the court.",
        "body_examples": {"first_name": "Ana", "hearing_date": "May 3"},
    }
    fields.update(changes)
    return compose(**fields)


def with_buttons(draft: TemplateDraft, *buttons: dict[str, Any]) -> TemplateDraft:
    components = [c for c in draft.components if c.get("type") != "BUTTONS"]
    components.append({"type": "BUTTONS", "buttons": list(buttons)})
    return draft.with_changes(components=tuple(components))


def with_component(draft: TemplateDraft, component: dict[str, Any]) -> TemplateDraft:
    """``draft`` with its component of that type replaced (or added)."""
    kind = component["type"]
    components = [c for c in draft.components if c.get("type") != kind]
    components.insert(0 if kind == "HEADER" else len(components), component)
    return draft.with_changes(components=tuple(components))


def authentication_draft(**button: Any) -> TemplateDraft:
    otp = {"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code", **button}
    return TemplateDraft(
        name="login_code",
        language="en_US",
        category="AUTHENTICATION",
        components=(
            {"type": "BODY", "add_security_recommendation": True},
            {"type": "FOOTER", "code_expiration_minutes": 10},
            {"type": "BUTTONS", "buttons": [otp]},
        ),
    )


def url_button(**changes: Any) -> dict[str, Any]:
    return {
        "type": "URL",
        "text": "Track my case",
        "url": "https://city.gov/case/{{1}}",
        "example": ["C-1042"],
        **changes,
    }


QUICK = {"type": "QUICK_REPLY", "text": "Stop reminders"}
PHONE = {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+1 555 010 0100"}
COPY_CODE = {"type": "COPY_CODE", "example": "FALL25"}
FLOW = {
    "type": "FLOW",
    "text": "Book a slot",
    "flow_id": "1234567890",
    "navigate_screen": "WELCOME",
}
