"""``/api/v1/templates/``: the template library through the same services as the editor
(``templates_mgr.services``): drafts validated by Meta's rules and pre-screened, submitted
to the Cloud API, their review status from webhooks and the sync."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework import status as http
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from records.audit import Actor
from templates_mgr import selectors, services
from templates_mgr.api.serializers import (
    DraftSerializer,
    DraftUpdateSerializer,
    SubmitSerializer,
    TemplateSerializer,
    as_component_list,
)
from templates_mgr.drafts import TemplateDraft
from templates_mgr.models import MessageTemplate
from tenants.api.exceptions import ApiProblem
from tenants.api.idempotency import idempotent
from tenants.api.pagination import CursorPagination
from tenants.api.schema import IDEMPOTENCY_KEY, ApiAutoSchema
from tenants.api.scopes import Scope
from tenants.http import agency_request, request_agency
from tenants.permissions import Perm

TEMPLATE_EXAMPLE: dict[str, Any] = {
    "id": 18,
    "waba_id": "102290129340398",
    "name": "appointment_reminder",
    "language": "en_US",
    "category": "UTILITY",
    "parameter_format": "POSITIONAL",
    "components": [
        {
            "type": "BODY",
            "text": "Your appointment is on {{1}}.",
            "example": {"body_text": [["Tuesday 10:00"]]},
        }
    ],
    "topic": "",
    "status": "APPROVED",
    "quality_score": "GREEN",
    "rejected_reason": "",
    "meta_template_id": "594425479261596",
    "created_at": "2026-12-01T15:04:05Z",
    "updated_at": "2026-12-01T15:09:12Z",
}
DRAFT_EXAMPLE = {k: TEMPLATE_EXAMPLE[k] for k in ("name", "language", "category", "components")}
FILTERS = [
    OpenApiParameter("status", str, description="DRAFT, PENDING, APPROVED, REJECTED, …"),
    OpenApiParameter("category", str, description="UTILITY, MARKETING or AUTHENTICATION"),
    OpenApiParameter("language", str, description="Meta's code, e.g. en_US"),
    OpenApiParameter("name", str, description="Part of the name"),
    OpenApiParameter("waba_id", str, description="Meta's WABA id"),
]


def _actor(request: Request) -> Actor:
    return Actor.from_request(agency_request(request))


def _template(request: Request, pk: int) -> MessageTemplate:
    template = selectors.template_of(request_agency(request), pk)
    if template is None:
        raise Http404
    return template


def _refused(error: services.TemplateError) -> ApiProblem:
    """The services' refusals as problems: Meta's rules as field errors, the pre-screen's
    findings, campaigns still using the template, Meta's own refusal."""
    if isinstance(error, services.TemplateInvalid):
        errors = [
            {"pointer": "/" + v.field.replace(".", "/"), "detail": v.message, "code": v.code}
            for v in error.violations
        ]
        return ApiProblem(400, "template_invalid", str(error), errors=errors)
    if isinstance(error, services.PrescreenBlocked):
        findings = [
            {"field": f.field, "category": f.category, "message": f.message} for f in error.findings
        ]
        return ApiProblem(422, "prescreen_blocked", str(error), context={"findings": findings})
    if isinstance(error, services.TemplateInUse):
        used = [{"id": c.pk, "name": c.name} for c in error.campaigns]
        return ApiProblem(409, "template_in_use", str(error), context={"campaigns": used})
    if isinstance(error, services.SubmissionFailed):
        return ApiProblem(502, "meta_refused", str(error))
    return ApiProblem(422, "template_refused", str(error))


def _answer(template: MessageTemplate, status: int = http.HTTP_200_OK) -> Response:
    return Response(TemplateSerializer(template).data, status=status)


class OldestFirst(CursorPagination):
    ordering = "id"


class TemplateListApi(generics.ListAPIView):
    schema = ApiAutoSchema()
    required_perm = Perm.MANAGE_TEMPLATES
    required_scope = Scope.TEMPLATES_MANAGE
    serializer_class = TemplateSerializer
    pagination_class = OldestFirst

    @extend_schema(
        summary="The agency's templates, by WABA, name and language (templates:manage)",
        parameters=FILTERS,
        responses=TemplateSerializer(many=True),
        examples=[OpenApiExample("Template", value=TEMPLATE_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[MessageTemplate]:
        q = self.request.query_params
        status = (q.get("status") or "").upper() or None
        category = (q.get("category") or "").upper() or None
        if status not in (None, *MessageTemplate.Status.values):
            raise ApiProblem(400, "validation_error", "Unknown status.")
        if category not in (None, *MessageTemplate.Category.values):
            raise ApiProblem(400, "validation_error", "Unknown category.")
        rows = selectors.templates(
            request_agency(self.request),
            status=status,
            category=category,
            language=q.get("language") or None,
            search=q.get("name", "")[:200],
        )
        waba_id = q.get("waba_id")
        if waba_id:
            rows = rows.filter(waba__waba_id=waba_id[:64])
        return rows.order_by("id")

    @extend_schema(
        summary="Save a new draft template (templates:manage)",
        description="Stored as a DRAFT; `POST .../submit` sends it to Meta. The draft need "
        "not be valid yet: submitting checks Meta's rules (400 `template_invalid` with a "
        "pointer per rule) and the pre-screen (422 `prescreen_blocked`).",
        request=DraftSerializer,
        responses={201: TemplateSerializer},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample("Draft", value=DRAFT_EXAMPLE, request_only=True),
            OpenApiExample(
                "Saved",
                value={**TEMPLATE_EXAMPLE, "status": "DRAFT"},
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        body = DraftSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        agency = request_agency(request)
        waba = selectors.waba_of(agency, data.get("waba_id"))
        if waba is None:
            raise ApiProblem(
                400,
                "validation_error",
                "Name the WhatsApp account (waba_id) of the agency.",
                errors=[
                    {"pointer": "/waba_id", "detail": "Unknown or missing.", "code": "invalid"}
                ],
            )
        draft = TemplateDraft(
            name=data["name"],
            language=data["language"].replace("-", "_"),
            category=data["category"],
            parameter_format=data["parameter_format"],
            components=as_component_list(data["components"]),
            topic=data["topic"],
        )
        try:
            template = services.save_draft(
                actor=_actor(request), agency=agency, waba=waba, draft=draft
            )
        except services.TemplateError as error:
            raise _refused(error) from error
        return _answer(template, http.HTTP_201_CREATED)


class TemplateDetailApi(APIView):
    schema = ApiAutoSchema()
    required_perm = Perm.MANAGE_TEMPLATES
    required_scope = Scope.TEMPLATES_MANAGE

    @extend_schema(
        summary="One template: its status, quality and Meta's reason (templates:manage)",
        responses=TemplateSerializer,
        examples=[OpenApiExample("Template", value=TEMPLATE_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, pk: int) -> Response:
        return _answer(_template(request, pk))

    @extend_schema(
        summary="Save a new version (templates:manage)",
        description="A draft takes the change; a submitted template keeps Meta's copy and "
        "holds this as a pending edit until `submit`. Name and language never change.",
        request=DraftUpdateSerializer,
        responses=TemplateSerializer,
        examples=[
            OpenApiExample(
                "New body", value={"components": DRAFT_EXAMPLE["components"]}, request_only=True
            ),
            OpenApiExample("Template", value=TEMPLATE_EXAMPLE, response_only=True),
        ],
    )
    def patch(self, request: Request, pk: int) -> Response:
        template = _template(request, pk)
        body = DraftUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        if "components" in changes:
            changes["components"] = as_component_list(changes["components"])
        draft = selectors.current_draft(template).with_changes(**changes)
        try:
            saved = services.save_draft(
                actor=_actor(request),
                agency=request_agency(request),
                waba=template.waba,
                draft=draft,
                template=template,
            )
        except services.TemplateError as error:
            raise _refused(error) from error
        return _answer(saved)

    @extend_schema(
        summary="Delete the template at Meta (templates:manage)",
        description="Refused with 409 `template_in_use` (naming them) while campaigns use "
        "it, unless `?confirm=true`. A draft never submitted is removed.",
        parameters=[OpenApiParameter("confirm", bool)],
        responses={204: None},
    )
    def delete(self, request: Request, pk: int) -> Response:
        template = _template(request, pk)
        confirm = request.query_params.get("confirm", "").lower() in ("1", "true", "yes")
        try:
            services.delete_template(actor=_actor(request), template=template, confirm=confirm)
        except services.TemplateError as error:
            raise _refused(error) from error
        return Response(status=http.HTTP_204_NO_CONTENT)


class TemplateSubmitApi(APIView):
    schema = ApiAutoSchema()
    required_perm = Perm.MANAGE_TEMPLATES
    required_scope = Scope.TEMPLATES_MANAGE

    @extend_schema(
        summary="Submit the template (or its pending edit) to Meta for review (templates:manage)",
        description="Status becomes PENDING; `template.status` webhooks to integrators say "
        "when Meta approves or rejects it. 400 `template_invalid`, 422 `prescreen_blocked` "
        "(send a `justification` to submit anyway, audited), 502 `meta_refused`.",
        request=SubmitSerializer,
        responses=TemplateSerializer,
        examples=[
            OpenApiExample("Plain", value={}, request_only=True),
            OpenApiExample(
                "Pending", value={**TEMPLATE_EXAMPLE, "status": "PENDING"}, response_only=True
            ),
        ],
    )
    def post(self, request: Request, pk: int) -> Response:
        template = _template(request, pk)
        body = SubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            submitted = services.submit_template(
                actor=_actor(request),
                template=template,
                justification=body.validated_data["justification"],
            )
        except services.TemplateError as error:
            raise _refused(error) from error
        return _answer(submitted)
