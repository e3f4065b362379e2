"""``/api/v1/campaigns/``: campaigns through the engine the admin's pages use
(``messaging.campaigns.services``): the audience checked in bulk by the send rules, the
messaging-limit tier counted at campaign scale, pause/resume/cancel without duplicates."""

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

from messaging.campaigns import selectors, services
from messaging.campaigns.api.serializers import (
    CampaignCreateSerializer,
    CampaignSerializer,
    RecipientPageSerializer,
    ScheduleSerializer,
)
from messaging.campaigns.models import Campaign
from records.audit import Actor
from templates_mgr import selectors as template_selectors
from tenants import selectors as tenant_selectors
from tenants.api.exceptions import ApiProblem
from tenants.api.idempotency import idempotent
from tenants.api.pagination import CursorPagination
from tenants.api.schema import IDEMPOTENCY_KEY, ApiAutoSchema
from tenants.api.scopes import Scope
from tenants.http import agency_request, request_agency
from tenants.permissions import Perm

PROGRESS_EXAMPLE = {
    "recipients": 1200,
    "to_send": 1130,
    "queued": 0,
    "held": 0,
    "sent": 40,
    "delivered": 610,
    "read": 460,
    "failed": 20,
    "skipped": 70,
    "cancelled": 0,
    "percent_done": 100,
    "skipped_by_reason": {"no_opt_in": 52, "opted_out": 18},
    "failed_by_reason": {"131026": 20},
}
CAMPAIGN_EXAMPLE: dict[str, Any] = {
    "id": 7,
    "name": "Flood warning, Ward 3",
    "status": "sending",
    "phone_number": 3,
    "template": 18,
    "audience": {"source": "contacts", "topic": "emergency-alerts", "label_ids": []},
    "variable_mapping": {"1": {"source": "attribute", "value": "first_name"}},
    "scheduled_at": None,
    "split_across_days": False,
    "started_at": "2026-12-03T14:00:02Z",
    "failure_reason": "",
    "created_at": "2026-12-03T13:51:40Z",
    "updated_at": "2026-12-03T14:00:02Z",
    "progress": PROGRESS_EXAMPLE,
}
CREATE_EXAMPLE = {
    "name": "Flood warning, Ward 3",
    "phone_number": 3,
    "template": 18,
    "audience": {"source": "contacts", "topic": "emergency-alerts"},
    "variable_mapping": {"1": {"source": "attribute", "value": "first_name"}},
}


def _actor(request: Request) -> Actor:
    return Actor.from_request(agency_request(request))


def _campaign(request: Request, pk: int) -> Campaign:
    try:
        return selectors.campaign(request_agency(request), pk)
    except Campaign.DoesNotExist as missing:
        raise Http404 from missing


def _refused(error: services.CampaignError) -> ApiProblem:
    extensions: dict[str, Any] = {}
    if error.field:
        extensions["errors"] = [
            {"pointer": f"/{error.field}", "detail": str(error), "code": "invalid"}
        ]
    return ApiProblem(422, "campaign_refused", str(error), **extensions)


def _answer(campaign: Campaign, status: int = http.HTTP_200_OK) -> Response:
    progress = {campaign.pk: selectors.campaign_progress(campaign)}
    data = CampaignSerializer(campaign, context={"progress": progress}).data
    return Response(data, status=status)


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, int) else None


class CampaignListApi(generics.ListAPIView):
    schema = ApiAutoSchema()
    required_perm = Perm.RUN_CAMPAIGNS
    required_scope = Scope.CAMPAIGNS_MANAGE
    serializer_class = CampaignSerializer
    pagination_class = CursorPagination

    @extend_schema(
        summary="The agency's campaigns, newest first (campaigns:manage)",
        parameters=[
            OpenApiParameter(
                "status",
                str,
                description="draft, scheduled, queuing, sending, paused, completed, cancelled…",
            )
        ],
        responses=CampaignSerializer(many=True),
        examples=[
            OpenApiExample(
                "Campaign", value={**CAMPAIGN_EXAMPLE, "progress": None}, response_only=True
            )
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Campaign]:
        wanted = self.request.query_params.get("status") or None
        if wanted is not None and wanted not in Campaign.Status.values:
            raise ApiProblem(400, "validation_error", f"Unknown status: {wanted[:40]}.")
        return selectors.campaign_list(request_agency(self.request), wanted).order_by("-id")

    @extend_schema(
        summary="Create a draft campaign (campaigns:manage)",
        description="An APPROVED template of the number's WABA, an audience of opted-in "
        'contacts (topic, labels, attributes, or `{"source": "csv", "upload_id": …}`) '
        "and the variables' mapping. `POST .../schedule` sends it.",
        request=CampaignCreateSerializer,
        responses={201: CampaignSerializer},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample("Draft", value=CREATE_EXAMPLE, request_only=True),
            OpenApiExample(
                "Created",
                value={**CAMPAIGN_EXAMPLE, "status": "draft", "started_at": None},
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        body = CampaignCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        agency = request_agency(request)
        number = tenant_selectors.phone_numbers_of(agency).filter(pk=data["phone_number"]).first()
        template = None
        if "template" in data:
            template = template_selectors.template_of(agency, data["template"])
        missing = [
            name
            for name, found in (("phone_number", number), ("template", template))
            if found is None and (name != "template" or "template" in data)
        ]
        if missing or number is None:
            errors = [
                {"pointer": f"/{m}", "detail": "Not found.", "code": "invalid"} for m in missing
            ]
            raise ApiProblem(
                400, "validation_error", "The request has invalid fields.", errors=errors
            )
        actor = _actor(request)
        try:
            campaign = services.create_campaign(
                actor=actor,
                agency=agency,
                name=data["name"],
                phone_number=number,
                template=template,
            )
            changes = {k: data[k] for k in ("audience", "variable_mapping") if k in data}
            if changes:
                campaign = services.update_campaign(actor=actor, campaign=campaign, **changes)
        except services.CampaignError as error:
            raise _refused(error) from error
        return _answer(campaign, http.HTTP_201_CREATED)


class CampaignDetailApi(APIView):
    schema = ApiAutoSchema()
    required_perm = Perm.RUN_CAMPAIGNS
    required_scope = Scope.CAMPAIGNS_MANAGE

    @extend_schema(
        summary="One campaign with its live progress (campaigns:manage)",
        responses=CampaignSerializer,
        examples=[OpenApiExample("Campaign", value=CAMPAIGN_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, pk: int) -> Response:
        return _answer(_campaign(request, pk))


def _action(name: str, verb: str, summary: str) -> type[APIView]:
    """pause / resume / cancel: the same shape, each through its service."""
    service = getattr(services, f"{verb}_campaign")

    @extend_schema(
        summary=f"{summary} (campaigns:manage)",
        request=None,
        responses=CampaignSerializer,
        examples=[OpenApiExample("Campaign", value=CAMPAIGN_EXAMPLE, response_only=True)],
    )
    def post(self: APIView, request: Request, pk: int) -> Response:
        campaign = _campaign(request, pk)
        try:
            changed = service(actor=_actor(request), campaign=campaign)
        except services.CampaignError as error:
            raise _refused(error) from error
        return _answer(changed)

    attributes = {
        "schema": ApiAutoSchema(),
        "required_perm": Perm.RUN_CAMPAIGNS,
        "required_scope": Scope.CAMPAIGNS_MANAGE,
        "post": post,
        "__doc__": summary,
    }
    return type(name, (APIView,), attributes)


CampaignPauseApi = _action("CampaignPauseApi", "pause", "Pause a running campaign")
CampaignResumeApi = _action("CampaignResumeApi", "resume", "Resume a paused campaign")
CampaignCancelApi = _action("CampaignCancelApi", "cancel", "Cancel: nothing unsent goes out")


class CampaignScheduleApi(APIView):
    schema = ApiAutoSchema()
    required_perm = Perm.RUN_CAMPAIGNS
    required_scope = Scope.CAMPAIGNS_MANAGE

    @extend_schema(
        summary="Confirm the campaign: now, or at a time (campaigns:manage)",
        description="Refused (422 `campaign_refused`, with the numbers) when it needs more "
        "new people than the messaging limit has left, unless `split_across_days`.",
        request=ScheduleSerializer,
        responses=CampaignSerializer,
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample("Now", value={"at": None}, request_only=True),
            OpenApiExample(
                "Scheduled", value={**CAMPAIGN_EXAMPLE, "status": "scheduled"}, response_only=True
            ),
        ],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        campaign = _campaign(request, pk)
        body = ScheduleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            scheduled = services.schedule_campaign(
                actor=_actor(request),
                campaign=campaign,
                at=body.validated_data["at"],
                split_across_days=body.validated_data["split_across_days"],
            )
        except services.CampaignError as error:
            raise _refused(error) from error
        return _answer(scheduled)


class CampaignRecipientsApi(APIView):
    schema = ApiAutoSchema()
    required_perm = Perm.RUN_CAMPAIGNS
    required_scope = Scope.CAMPAIGNS_MANAGE

    @extend_schema(
        summary="The campaign's recipients with their status or skip reason (campaigns:manage)",
        parameters=[
            OpenApiParameter(
                "status", str, description="queued, sent, delivered, read, failed, skipped…"
            ),
            OpenApiParameter("cursor", int, description="`next_cursor` of the previous page"),
        ],
        responses=RecipientPageSerializer,
        examples=[
            OpenApiExample(
                "Page",
                value={
                    "next_cursor": 88120,
                    "results": [
                        {
                            "id": 88071,
                            "wa_id": "15125550100",
                            "name": "Ana Ruiz",
                            "status": "skipped",
                            "reason": "No opt-in",
                            "sent_at": None,
                            "delivered_at": None,
                            "read_at": None,
                        }
                    ],
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request, pk: int) -> Response:
        campaign = _campaign(request, pk)
        raw = request.query_params.get("cursor") or ""
        if raw and not (raw.isdigit() and len(raw) < 19):
            raise ApiProblem(400, "invalid_cursor", "The cursor is not valid for this list.")
        page = selectors.recipients(
            campaign, request.query_params.get("status") or None, int(raw) if raw else None
        )
        data = {"next_cursor": page.next_cursor, "results": [vars(r) for r in page.rows]}
        return Response(RecipientPageSerializer(data).data)
