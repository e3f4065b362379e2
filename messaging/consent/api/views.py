"""The contacts and consent API: the agency's contacts (list, search by phone, create,
read, update, delete), a contact's consent history, recording an opt-in or opt-out, and
the consent topics; over ``messaging.consent.selectors`` and ``messaging.consent.services``.

Scopes: reading needs ``contacts:read``, changing ``contacts:write``; staff signed in to the
site need ``view_contacts`` and ``manage_contacts``. A consent recorded here goes through
``record_consent`` like every other path (keyword, inbox, hosted page): source ``api``, one
audit record and one ``consent.changed`` event, and an opt-out withdraws the citizen's
waiting business-initiated messages in the same transaction.

Deleting a contact is refused (409) when they have records: ``record_held`` under a legal
hold, otherwise ``contact_has_records`` for conversations (government records, disposed of
only by the retention schedule) or a consent history (the evidence of an opt-out must
outlive the contact, or re-creating them would let them be messaged again).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, serializers
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from messaging import wa_ids
from messaging.consent import selectors, services
from messaging.consent.api import serializers as io
from messaging.consent.models import ConsentTopic
from messaging.models import Consent, Contact
from records.audit import Actor
from tenants.api.idempotency import idempotent
from tenants.api.pagination import CursorPagination
from tenants.api.schema import IDEMPOTENCY_KEY, ApiAutoSchema
from tenants.api.scopes import Scope
from tenants.http import agency_request
from tenants.models import Agency
from tenants.permissions import Perm

JSON_ONLY = [JSONParser]  # a form or multipart body is a 415, not a 400
READ_WRITE_SCOPE = {
    "GET": Scope.CONTACTS_READ,
    "POST": Scope.CONTACTS_WRITE,
    "PATCH": Scope.CONTACTS_WRITE,
    "DELETE": Scope.CONTACTS_WRITE,
}

CONTACT_EXAMPLE: dict[str, Any] = {
    "id": 930,
    "phone": "+14155550123",
    "wa_id": "14155550123",
    "name": "Maria Lopez",
    "attributes": {"case_number": "C-2026-0412", "language": "es"},
    "unreachable_at": None,
    "created_at": "2026-11-28T09:15:00Z",
}
CONTACT_DETAIL_EXAMPLE: dict[str, Any] = {
    **CONTACT_EXAMPLE,
    "consent": [
        {"topic": "", "name": "All messages from the agency", "state": "none"},
        {"topic": "alerts", "name": "Emergency alerts", "state": "opted_in"},
    ],
}
CONSENT_EXAMPLE: dict[str, Any] = {
    "id": 5120,
    "recorded_at": "2026-12-03T14:05:00Z",
    "status": "opted_in",
    "topic": "alerts",
    "source": "api",
    "recorded_by": None,
    "evidence": {"note": "Signed up on the county's case portal", "credential": "Case system"},
}
TOPIC_EXAMPLE: dict[str, Any] = {
    "id": 4,
    "slug": "alerts",
    "name": "Emergency alerts",
    "description": "Severe weather, boil-water notices and road closures.",
    "keywords": ["ALERTS"],
    "page_enabled": True,
}


def _agency(request: Request) -> Agency:
    agency = agency_request(request).agency
    if agency is None:  # IsAgencyMember let nobody without one through
        raise Http404
    return agency


def _member(request: Request) -> User | None:
    """The member acting (a staff session), or None for an API credential."""
    if agency_request(request).api_credential is not None:
        return None
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


def _actor(request: Request) -> Actor:
    return Actor.from_request(request._request)


def _contact(request: Request, pk: int) -> Contact:
    """The agency's contact ``pk``; another agency's (or none) is a 404."""
    found = selectors.contact(_agency(request), pk) if 0 < pk < io.MAX_ID else None
    if found is None:
        raise Http404
    return found


def _wa_id(agency: Agency, field: str, phone: str) -> str:
    wa_id = wa_ids.to_wa_id(phone, wa_ids.default_region(agency))
    if wa_id is None:
        raise serializers.ValidationError({field: ["Not a valid phone number."]})
    return wa_id


def _detail(contact: Contact) -> Response:
    states = selectors.states(contact, selectors.topics(contact.agency))
    return Response(io.ContactDetailSerializer(io.contact_detail_data(contact, states)).data)


# --- Contacts ------------------------------------------------------------------------------


class ContactCursor(CursorPagination):
    """The list's ``?ordering=`` (validated by the view before it pages)."""

    ordering = "-id"

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> tuple[str, ...]:
        return io.ORDERINGS.get(request.query_params.get("ordering", ""), ("-id",))


class ContactListApi(generics.GenericAPIView[Contact]):
    schema = ApiAutoSchema()
    parser_classes = JSON_ONLY
    required_scope = {"GET": Scope.CONTACTS_READ, "POST": Scope.CONTACTS_WRITE}
    pagination_class = ContactCursor
    serializer_class = io.ContactSerializer

    @property
    def required_perm(self) -> Perm:
        return Perm.MANAGE_CONTACTS if self.request.method == "POST" else Perm.VIEW_CONTACTS

    @extend_schema(
        summary="The agency's contacts (contacts:read)",
        description=(
            "Newest first unless `ordering` says otherwise; the filters combine (AND). "
            "`phone` finds the one contact with that number, written in any format (it is "
            "read as the app reads numbers: international, or national in the agency's "
            "country); a number that is not valid is a 400."
        ),
        parameters=[io.ContactFiltersSerializer],
        responses=io.ContactSerializer(many=True),
        examples=[OpenApiExample("A contact", value=CONTACT_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        agency = _agency(request)
        params = io.ContactFiltersSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = params.validated_data
        state = filters.get("state")
        contacts = selectors.contacts_for_api(
            agency,
            wa_id=_wa_id(agency, "phone", filters["phone"]) if "phone" in filters else "",
            query=filters.get("q", ""),
            topic=filters.get("topic", ""),
            state=selectors.State(state) if state else None,
        )
        page = self.paginate_queryset(contacts) or []
        return self.get_paginated_response([io.contact_data(c) for c in page])

    @extend_schema(
        summary="Create a contact (contacts:write)",
        description=(
            "The number becomes the contact's WhatsApp id (E.164 preferred; a national "
            "number is read in the agency's country). A number the agency already has is a "
            "409 `contact_exists` whose `context.contact` is the existing contact's id. "
            "Creating a contact records no consent: record an opt-in with "
            "`POST /api/v1/contacts/{id}/consent/`. Send an `Idempotency-Key` to retry "
            "safely."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=io.ContactInputSerializer,
        responses={201: io.ContactDetailSerializer},
        examples=[
            OpenApiExample(
                "New contact",
                value={
                    "phone": "+14155550123",
                    "name": "Maria Lopez",
                    "attributes": {"case_number": "C-2026-0412", "language": "es"},
                },
                request_only=True,
            ),
            OpenApiExample(
                "Created",
                value={
                    **CONTACT_DETAIL_EXAMPLE,
                    "consent": [
                        {"topic": "", "name": "All messages from the agency", "state": "none"}
                    ],
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        agency = _agency(request)
        body = io.ContactInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        contact = services.create_contact(
            actor=_actor(request),
            agency=agency,
            wa_id=_wa_id(agency, "phone", data["phone"]),
            name=data["name"],
            attributes=data["attributes"],
        )
        response = _detail(contact)
        response.status_code = 201
        return response


class ContactDetailApi(generics.GenericAPIView[Contact]):
    schema = ApiAutoSchema()
    parser_classes = JSON_ONLY
    required_scope = READ_WRITE_SCOPE
    serializer_class = io.ContactDetailSerializer

    @property
    def required_perm(self) -> Perm:
        return Perm.VIEW_CONTACTS if self.request.method == "GET" else Perm.MANAGE_CONTACTS

    @extend_schema(
        summary="One contact, with their consent per topic (contacts:read)",
        responses=io.ContactDetailSerializer,
        examples=[OpenApiExample("Contact", value=CONTACT_DETAIL_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, pk: int) -> Response:
        return _detail(_contact(request, pk))

    @extend_schema(
        summary="Rename a contact or change their attributes (contacts:write)",
        description=(
            "`attributes` are merged into the contact's; an attribute set to `null` is "
            "removed. The number never changes: a new number is a new contact."
        ),
        request=io.ContactPatchSerializer,
        responses=io.ContactDetailSerializer,
        examples=[
            OpenApiExample(
                "Rename, drop an attribute",
                value={"name": "María López", "attributes": {"language": None}},
                request_only=True,
            ),
            OpenApiExample("Updated", value=CONTACT_DETAIL_EXAMPLE, response_only=True),
        ],
    )
    def patch(self, request: Request, pk: int) -> Response:
        contact = _contact(request, pk)
        body = io.ContactPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        contact = services.update_contact(
            actor=_actor(request),
            contact=contact,
            name=body.validated_data.get("name"),
            attributes=body.validated_data.get("attributes"),
        )
        return _detail(contact)

    @extend_schema(
        summary="Delete a contact who has no records (contacts:write)",
        description=(
            "Only a contact with no conversation and no consent history is deleted (a "
            "contact created by mistake). Otherwise 409: `record_held` when a legal hold "
            "covers their conversations, `contact_has_records` when they have "
            "conversations (records kept by the retention schedule) or a consent history "
            "(the evidence of what the citizen agreed to; deleting an opt-out would let the "
            "number be messaged again)."
        ),
        responses={204: None},
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.delete_contact(actor=_actor(request), contact=_contact(request, pk))
        return Response(status=204)


# --- Consent -------------------------------------------------------------------------------


class ConsentCursor(CursorPagination):
    ordering = ("-recorded_at", "-id")  # type: ignore[assignment]  # DRF takes a tuple


class ContactConsentApi(generics.GenericAPIView[Consent]):
    schema = ApiAutoSchema()
    parser_classes = JSON_ONLY
    required_scope = {"GET": Scope.CONTACTS_READ, "POST": Scope.CONTACTS_WRITE}
    pagination_class = ConsentCursor
    serializer_class = io.ConsentSerializer

    @property
    def required_perm(self) -> Perm:
        return Perm.MANAGE_CONTACTS if self.request.method == "POST" else Perm.VIEW_CONTACTS

    def get_queryset(self) -> QuerySet[Consent]:
        return selectors.consent_history(_contact(self.request, self.kwargs["pk"]))

    @extend_schema(
        summary="A contact's consent history, newest first (contacts:read)",
        description=(
            "Every recorded opt-in and opt-out, from every source (keyword, web form, "
            "import, staff, API…). The history is append-only: a change is a new record, "
            "and the newest decides (an opt-out of everything wins over any topic's opt-in)."
        ),
        responses=io.ConsentSerializer(many=True),
        examples=[OpenApiExample("A record", value=CONSENT_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, pk: int) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        return self.get_paginated_response([io.consent_data(c) for c in page])

    @extend_schema(
        summary="Record an opt-in or opt-out (contacts:write)",
        description=(
            "Appends a record with source `api` and publishes `consent.changed`. An opt-out "
            "is effective at once: business-initiated messages are refused from now on, and "
            "those still waiting to go to the citizen (for that topic, or all of them "
            "without a topic) are cancelled. `topic` must be one of the agency's consent "
            "topics (`GET /api/v1/consent-topics/`). Send an `Idempotency-Key` to retry "
            "safely. The answer has the record and the contact's state for the topic now."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=io.ConsentInputSerializer,
        responses={201: io.RecordedConsentSerializer},
        examples=[
            OpenApiExample(
                "Opt-in to a topic",
                value={
                    "status": "opted_in",
                    "topic": "alerts",
                    "evidence": "Signed up on the county's case portal",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Opt-out of everything",
                value={"status": "opted_out", "evidence": "Asked by phone, ticket 8812"},
                request_only=True,
            ),
            OpenApiExample(
                "Recorded",
                value={"event": CONSENT_EXAMPLE, "state": "opted_in"},
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        contact = _contact(request, pk)
        body = io.ConsentInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        topic = data["topic"]
        if topic and selectors.topic_by_slug(contact.agency, topic) is None:
            raise serializers.ValidationError({"topic": ["The agency has no such topic."]})
        credential = agency_request(request).api_credential
        evidence: dict[str, Any] = {"note": data["evidence"]}
        if credential is not None:
            evidence["credential"] = credential.name
        consent = services.record_consent(
            actor=_actor(request),
            contact=contact,
            status=data["status"],
            source=Consent.Source.API,
            topic=topic,
            recorded_by=_member(request),
            evidence=evidence,
        )
        answer = {"event": io.consent_data(consent), "state": selectors.state_of(contact, topic)}
        return Response(io.RecordedConsentSerializer(answer).data, status=201)


class TopicCursor(CursorPagination):
    ordering = ("name", "id")  # type: ignore[assignment]  # DRF takes a tuple


class ConsentTopicListApi(generics.GenericAPIView[ConsentTopic]):
    schema = ApiAutoSchema()
    required_perm = Perm.VIEW_CONTACTS
    required_scope = Scope.CONTACTS_READ
    pagination_class = TopicCursor
    serializer_class = io.ConsentTopicSerializer

    def get_queryset(self) -> QuerySet[ConsentTopic]:
        return selectors.topics(_agency(self.request))

    @extend_schema(
        summary="The agency's consent topics, by name (contacts:read)",
        description="What citizens may opt in to; `slug` is the `topic` of consent records.",
        responses=io.ConsentTopicSerializer(many=True),
        examples=[OpenApiExample("A topic", value=TOPIC_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        return self.get_paginated_response(io.ConsentTopicSerializer(page, many=True).data)
