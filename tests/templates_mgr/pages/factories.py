"""Templates as the pages' tests need them: a draft, an approved English/Spanish pair, a
rejected one with Meta's reason."""

from __future__ import annotations

from typing import Any

from templates_mgr.models import MessageTemplate
from tests.factories import TemplateFactory

Status = MessageTemplate.Status

PERMIT_BODY = "Hello {{1}}, your permit {{2}} is ready for pickup."
PERMIT_COMPONENTS: list[dict[str, Any]] = [
    {"type": "BODY", "text": PERMIT_BODY, "example": {"body_text": [["Ana", "P-1042"]]}},
    {"type": "FOOTER", "text": "City of Springfield"},
]
PERMISO_COMPONENTS: list[dict[str, Any]] = [
    {
        "type": "BODY",
        "text": "Hola {{1}}, su permiso {{2}} está listo.",
        "example": {"body_text": [["Ana", "P-1042"]]},
    }
]


def draft_template(agency: Any, waba: Any, **fields: Any) -> MessageTemplate:
    fields.setdefault("name", "permit_ready")
    fields.setdefault("components", [dict(c) for c in PERMIT_COMPONENTS])
    return TemplateFactory(agency=agency, waba=waba, status=Status.DRAFT, **fields)


def approved_pair(agency: Any, waba: Any, name: str = "permit_ready") -> tuple[Any, Any]:
    english = TemplateFactory(
        agency=agency,
        waba=waba,
        name=name,
        language="en_US",
        meta_template_id=f"{name}-en",
        quality_score="GREEN",
        components=[dict(c) for c in PERMIT_COMPONENTS],
    )
    spanish = TemplateFactory(
        agency=agency,
        waba=waba,
        name=name,
        language="es",
        meta_template_id=f"{name}-es",
        status=Status.PENDING,
        components=[dict(c) for c in PERMISO_COMPONENTS],
    )
    return english, spanish


def rejected_template(agency: Any, waba: Any, **fields: Any) -> MessageTemplate:
    return TemplateFactory(
        agency=agency,
        waba=waba,
        status=Status.REJECTED,
        meta_template_id=fields.pop("meta_template_id", "rejected-1"),
        rejected_reason="INVALID_FORMAT",
        rejection_info={
            "reason": "The template was rejected: INVALID_FORMAT.",
            "recommendation": "Review the template guidelines and submit again.",
        },
        **fields,
    )
