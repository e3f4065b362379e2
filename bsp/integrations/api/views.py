"""``/api/v1/webhooks/``: integrators manage their own event webhook subscriptions and read
the delivery log, through the services the Webhooks page uses (``bsp.integrations``)."""

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

from bsp.integrations import selectors, services
from bsp.integrations.api.serializers import (
    CreatedSubscriptionSerializer,
    DeliverySerializer,
    SecretSerializer,
    SubscriptionPatchSerializer,
    SubscriptionSerializer,
    SubscriptionWriteSerializer,
)
from bsp.integrations.models import Delivery, WebhookSubscription
from records.audit import Actor
from tenants.api.exceptions import ApiProblem
from tenants.api.idempotency import idempotent
from tenants.api.pagination import CursorPagination
from tenants.api.schema import IDEMPOTENCY_KEY, ApiAutoSchema
from tenants.api.scopes import Scope
from tenants.http import agency_request, request_agency
from tenants.permissions import Perm

SUBSCRIPTION_EXAMPLE: dict[str, Any] = {
    "id": 4,
    "url": "https://crm.example.gov/hooks/civic-relay",
    "description": "Case system",
    "events": ["message.received", "message.status"],
    "secret_hint": "whsec_Q2x3",
    "enabled": True,
    "disabled_reason": "",
    "disabled_at": None,
    "failing_since": None,
    "created_at": "2026-12-03T09:12:00Z",
    "updated_at": "2026-12-03T09:12:00Z",
}
WRITE_EXAMPLE = {k: SUBSCRIPTION_EXAMPLE[k] for k in ("url", "events", "description")}
DELIVERY_EXAMPLE = {
    "id": 981,
    "event_id": "evt_12_3456",
    "type": "message.status",
    "sequence": 3456,
    "status": "succeeded",
    "attempts": 1,
    "last_status_code": 204,
    "last_latency_ms": 38,
    "last_error": "",
    "next_attempt_at": "2026-12-03T09:20:01Z",
    "event_created_at": "2026-12-03T09:20:01Z",
    "created_at": "2026-12-03T09:20:01Z",
    "finished_at": "2026-12-03T09:20:01Z",
}


class _Webhooks(APIView):
    schema = ApiAutoSchema()
    required_perm = Perm.MANAGE_API_KEYS
    required_scope = Scope.WEBHOOKS_MANAGE


def _actor(request: Request) -> Actor:
    return Actor.from_request(agency_request(request))


def _subscription(request: Request, pk: int) -> WebhookSubscription:
    sub = selectors.subscription(request_agency(request), pk)
    if sub is None:
        raise Http404
    return sub


def _refused(error: services.WebhookError) -> ApiProblem:
    """The URL or events refused (SSRF checks, https, unknown events): the field's error."""
    return ApiProblem(400, "webhook_refused", str(error))


class SubscriptionListApi(generics.ListAPIView, _Webhooks):
    serializer_class = SubscriptionSerializer
    pagination_class = CursorPagination

    @extend_schema(
        summary="The agency's webhook subscriptions (webhooks:manage)",
        examples=[OpenApiExample("Subscription", value=SUBSCRIPTION_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[WebhookSubscription]:
        return selectors.subscriptions(request_agency(self.request)).order_by("-id")

    @extend_schema(
        summary="Subscribe a URL to events (webhooks:manage)",
        description="The URL must be https and reach a public address (400 "
        "`webhook_refused` says why not). The answer carries the signing `secret` — the "
        "only time it is shown.",
        request=SubscriptionWriteSerializer,
        responses={201: CreatedSubscriptionSerializer},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample("Subscribe", value=WRITE_EXAMPLE, request_only=True),
            OpenApiExample(
                "Created",
                value={**SUBSCRIPTION_EXAMPLE, "secret": "whsec_Q2x3…(43 characters)"},
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        body = SubscriptionWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            sub, secret = services.create_subscription(
                actor=_actor(request), agency=request_agency(request), **body.validated_data
            )
        except services.WebhookError as error:
            raise _refused(error) from error
        data = {**SubscriptionSerializer(sub).data, "secret": secret}
        return Response(data, status=http.HTTP_201_CREATED)


class SubscriptionDetailApi(_Webhooks):
    @extend_schema(
        summary="One webhook subscription (webhooks:manage)",
        responses=SubscriptionSerializer,
        examples=[OpenApiExample("Subscription", value=SUBSCRIPTION_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(SubscriptionSerializer(_subscription(request, pk)).data)

    @extend_schema(
        summary="Change the URL, events or description (webhooks:manage)",
        request=SubscriptionPatchSerializer,
        responses=SubscriptionSerializer,
        examples=[
            OpenApiExample("Events", value={"events": ["message.status"]}, request_only=True),
            OpenApiExample("Subscription", value=SUBSCRIPTION_EXAMPLE, response_only=True),
        ],
    )
    def patch(self, request: Request, pk: int) -> Response:
        sub = _subscription(request, pk)
        body = SubscriptionPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            changed = services.update_subscription(
                actor=_actor(request),
                subscription=sub,
                url=data.get("url", sub.url),
                events=data.get("events", sub.events),
                description=data.get("description", sub.description),
            )
        except services.WebhookError as error:
            raise _refused(error) from error
        return Response(SubscriptionSerializer(changed).data)

    @extend_schema(summary="Delete the subscription (webhooks:manage)", responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        services.delete(actor=_actor(request), subscription=_subscription(request, pk))
        return Response(status=http.HTTP_204_NO_CONTENT)


class RotateSecretApi(_Webhooks):
    @extend_schema(
        summary="A new signing secret, at once for every delivery (webhooks:manage)",
        request=None,
        responses=SecretSerializer,
        examples=[OpenApiExample("Secret", value={"secret": "whsec_…"}, response_only=True)],
    )
    def post(self, request: Request, pk: int) -> Response:
        secret = services.rotate_secret(
            actor=_actor(request), subscription=_subscription(request, pk)
        )
        return Response({"secret": secret})


class EnableApi(_Webhooks):
    @extend_schema(
        summary="Enable a disabled subscription again (webhooks:manage)",
        request=None,
        responses=SubscriptionSerializer,
        examples=[OpenApiExample("Subscription", value=SUBSCRIPTION_EXAMPLE, response_only=True)],
    )
    def post(self, request: Request, pk: int) -> Response:
        sub = services.enable(actor=_actor(request), subscription=_subscription(request, pk))
        return Response(SubscriptionSerializer(sub).data)


class TestEventApi(_Webhooks):
    @extend_schema(
        summary="Send a signed webhook.test event now (webhooks:manage)",
        request=None,
        responses={202: DeliverySerializer},
        examples=[
            OpenApiExample(
                "Queued",
                value={**DELIVERY_EXAMPLE, "type": "webhook.test", "status": "pending"},
                response_only=True,
                status_codes=["202"],
            )
        ],
    )
    def post(self, request: Request, pk: int) -> Response:
        try:
            delivery = services.send_test(
                actor=_actor(request), subscription=_subscription(request, pk)
            )
        except services.WebhookError as error:
            raise ApiProblem(422, "webhook_refused", str(error)) from error
        return Response(DeliverySerializer(delivery).data, status=http.HTTP_202_ACCEPTED)


class DeliveryListApi(generics.ListAPIView, _Webhooks):
    serializer_class = DeliverySerializer
    pagination_class = CursorPagination

    @extend_schema(
        summary="The subscription's delivery log, newest first (webhooks:manage)",
        parameters=[OpenApiParameter("status", str, description="pending, succeeded, failed")],
        examples=[OpenApiExample("Delivery", value=DELIVERY_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Delivery]:
        sub = _subscription(self.request, int(self.kwargs["pk"]))
        status = self.request.query_params.get("status", "")
        return selectors.deliveries(sub, status).order_by("-id")
