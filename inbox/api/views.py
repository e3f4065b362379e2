"""The conversations API: the team inbox's list, a conversation, and the agent's actions
on it (assign, status, labels, notes), over ``inbox.selectors`` and ``inbox.services``.

Scopes: reading needs ``messages:read``; the actions change the conversation as an agent
would, so they need ``messages:send`` (the scope that stands for answering citizens). A
credential acts as itself (``Actor.from_request``: the audit trail names the key) and, not
being a member, assigns to anyone who may answer. Staff signed in to the site are checked
against their role as in the inbox: reading needs ``view_inbox``, acting ``reply``, and
handing a conversation to someone else ``assign`` (inbox.services decides).
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
from rest_framework.views import APIView

from inbox import selectors, services
from inbox.api import serializers as io
from inbox.models import Label, Note, Team
from inbox.selectors import ConversationRow, Filters
from records.audit import Actor
from tenants.api.idempotency import idempotent
from tenants.api.pagination import CursorPagination
from tenants.api.schema import IDEMPOTENCY_KEY, ApiAutoSchema
from tenants.api.scopes import Scope
from tenants.http import agency_request, request_agency
from tenants.models import Agency
from tenants.permissions import Perm

CONVERSATION_EXAMPLE: dict[str, Any] = {
    "id": 4211,
    "status": "open",
    "snoozed_until": None,
    "contact": {"id": 930, "phone": "+14155550123", "name": "Maria Lopez"},
    "phone_number": {"id": 3, "phone": "+15550100", "name": "Demo County Permits"},
    "assignee": {"id": 17, "email": "sam@demo-county.gov", "name": "Sam Reyes"},
    "team": {"id": 2, "name": "Permits"},
    "labels": ["permits", "urgent"],
    "unread_count": 1,
    "waiting_since": "2026-12-03T14:02:11Z",
    "window": {"open": True, "closes_at": "2026-12-04T14:02:11Z"},
    "created_at": "2026-11-28T09:15:00Z",
    "last_message_at": "2026-12-03T14:02:11Z",
    "last_inbound_at": "2026-12-03T14:02:11Z",
    "resolved_at": None,
}
NOTE_EXAMPLE: dict[str, Any] = {
    "id": 88,
    "conversation": 4211,
    "body": "Called back; @sam will send the permit form.",
    "author": None,
    "author_label": "API key “CRM”",
    "created_at": "2026-12-03T14:10:00Z",
}


JSON_ONLY = [JSONParser]  # a form or multipart body is a 415, not a 400


def _agency(request: Request) -> Agency:
    return request_agency(request)


def _member(request: Request) -> User | None:
    """The member acting (a staff session), or None for an API credential."""
    if agency_request(request).api_credential is not None:
        return None
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


def _row(request: Request, pk: int) -> ConversationRow:
    """The agency's conversation ``pk``; another agency's (or none) is a 404."""
    row = selectors.get_conversation(_agency(request), pk) if 0 < pk < io.MAX_ID else None
    if row is None:
        raise Http404
    return row


def _answer(request: Request, pk: int) -> Response:
    return Response(io.ConversationSerializer(io.conversation_data(_row(request, pk))).data)


def _invalid(field: str, message: str) -> serializers.ValidationError:
    return serializers.ValidationError({field: [message]})


# --- The list and one conversation --------------------------------------------------------


class ByLastActivity(CursorPagination):
    """Newest activity first, as the inbox lists them (index ``conversation_recent``)."""

    ordering = ("-last_message_at", "-id")  # type: ignore[assignment]  # DRF takes a tuple


def _filters(agency: Agency, params: dict[str, Any]) -> Filters:
    assignee = params.get("assignee")
    label = params.get("label")
    label_pk: int | None = None
    if label is not None:
        named = None if label.isdigit() else selectors.label_named(agency, label)
        found = int(label) if label.isdigit() else (named.pk if named else 0)
        if not found or not 0 < found < io.MAX_ID:
            raise _invalid("label", "No label with this id or name.")
        label_pk = found
    return Filters(
        view="unassigned" if assignee == "none" else "all",
        status=params["status"],
        assignee=int(assignee) if assignee and assignee != "none" else None,
        team=params.get("team"),
        label=label_pk,
        phone_number=params.get("phone_number"),
        contact=params.get("contact"),
        updated_since=params.get("updated_since"),
    )


class ConversationListApi(generics.GenericAPIView[Any]):
    schema = ApiAutoSchema()
    required_perm = Perm.VIEW_INBOX
    required_scope = Scope.MESSAGES_READ
    pagination_class = ByLastActivity
    serializer_class = io.ConversationSerializer

    @extend_schema(
        summary="The agency's conversations, newest activity first (messages:read)",
        description=(
            "The team inbox's list. Every status unless `status` says otherwise; filters "
            "combine (AND). A conversation nobody has written in yet is not listed. Ids of "
            "another agency match nothing."
        ),
        parameters=[io.ConversationFiltersSerializer],
        responses=io.ConversationSerializer(many=True),
        examples=[
            OpenApiExample(
                "A page",
                value=CONVERSATION_EXAMPLE,
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        agency = _agency(request)
        params = io.ConversationFiltersSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        keys = selectors.conversation_keys(agency, _filters(agency, params.validated_data))
        page = self.paginate_queryset(keys) or []
        rows = selectors.conversation_rows([key["id"] for key in page])
        data = [io.ConversationSerializer(io.conversation_data(row)).data for row in rows]
        return self.get_paginated_response(data)


class ConversationDetailApi(APIView):
    schema = ApiAutoSchema()
    required_perm = Perm.VIEW_INBOX
    required_scope = Scope.MESSAGES_READ

    @extend_schema(
        summary="One conversation (messages:read)",
        responses=io.ConversationSerializer,
        examples=[OpenApiExample("Conversation", value=CONVERSATION_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, pk: int) -> Response:
        return _answer(request, pk)


# --- Actions -------------------------------------------------------------------------------


class ConversationAssignApi(APIView):
    schema = ApiAutoSchema()
    parser_classes = JSON_ONLY
    required_perm = Perm.REPLY  # handing it to someone else: Perm.ASSIGN (inbox.services)
    required_scope = Scope.MESSAGES_SEND

    @extend_schema(
        summary="Assign the conversation to a member and/or a team (messages:send)",
        description=(
            "`assignee`: a member who may answer conversations (else 422 "
            "`assignee_cannot_reply`), or null to unassign. `team`: a team, null for none, "
            "left out to keep it. Publishes `conversation.assigned` and notifies the "
            "assignee. An id that is not the agency's member or team is a 400."
        ),
        request=io.AssignSerializer,
        responses=io.ConversationSerializer,
        examples=[
            OpenApiExample("To a member and team", value={"assignee": 17, "team": 2}),
            OpenApiExample("Unassign", value={"assignee": None}),
            OpenApiExample("Assigned", value=CONVERSATION_EXAMPLE, response_only=True),
        ],
    )
    def post(self, request: Request, pk: int) -> Response:
        row = _row(request, pk)
        agency = _agency(request)
        body = io.AssignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        assignee: User | None = None
        if data["assignee"] is not None:
            assignee = selectors.member_user(agency, data["assignee"])
            if assignee is None:
                raise _invalid("assignee", "No member of this agency has this id.")
        team: Team | bool | None = False
        if "team" in data:
            team = None
            if data["team"] is not None:
                team = selectors.team_of_agency(agency, data["team"])
                if team is None:
                    raise _invalid("team", "No team of this agency has this id.")
        services.assign(
            actor=Actor.from_request(request._request),
            by=_member(request),
            conversation=row.conversation,
            assignee=assignee,
            team=team,
            reason="api",
        )
        return _answer(request, pk)


class ConversationStatusApi(APIView):
    schema = ApiAutoSchema()
    parser_classes = JSON_ONLY
    required_perm = Perm.REPLY
    required_scope = Scope.MESSAGES_SEND

    @extend_schema(
        summary="Open, pend, snooze or resolve the conversation (messages:send)",
        description=(
            "Publishes `conversation.status`. Snoozing needs `snooze_until` in the future "
            "(else 422 `snooze_not_in_future`); the conversation reopens then by itself."
        ),
        request=io.StatusSerializer,
        responses=io.ConversationSerializer,
        examples=[
            OpenApiExample("Resolve", value={"status": "resolved"}),
            OpenApiExample(
                "Snooze", value={"status": "snoozed", "snooze_until": "2026-12-07T09:00:00Z"}
            ),
            OpenApiExample(
                "Resolved",
                value={**CONVERSATION_EXAMPLE, "status": "resolved", "waiting_since": None},
                response_only=True,
            ),
        ],
    )
    def post(self, request: Request, pk: int) -> Response:
        row = _row(request, pk)
        body = io.StatusSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.set_status(
            actor=Actor.from_request(request._request),
            by=_member(request),
            conversation=row.conversation,
            status=body.validated_data["status"],
            snooze_until=body.validated_data.get("snooze_until"),
            reason="api",
        )
        return _answer(request, pk)


def _labels(agency: Agency, refs: list[int | str]) -> list[Label]:
    """The agency's labels named by id or name; a 400 naming the first unknown one."""
    known = selectors.labels_of_agency(agency)
    by_pk = {label.pk: label for label in known}
    by_name = {label.name: label for label in known}
    chosen: dict[int, Label] = {}
    for index, ref in enumerate(refs):
        label = by_pk.get(ref) if isinstance(ref, int) else by_name.get(ref)
        if label is None:
            detail = {"labels": {str(index): ["No label of this agency has this id or name."]}}
            raise serializers.ValidationError(detail)
        chosen[label.pk] = label
    return list(chosen.values())


class ConversationLabelsApi(APIView):
    schema = ApiAutoSchema()
    parser_classes = JSON_ONLY
    required_perm = Perm.REPLY
    required_scope = Scope.MESSAGES_SEND

    @extend_schema(
        summary="Set the conversation's labels (messages:send)",
        description=(
            "Replaces the labels with exactly these (ids or names of the agency's labels; "
            "admins create labels in the inbox settings). Publishes `conversation.labels` "
            "when they changed."
        ),
        request=io.LabelsSerializer,
        responses=io.ConversationSerializer,
        examples=[
            OpenApiExample("By name", value={"labels": ["permits", "urgent"]}),
            OpenApiExample("By id", value={"labels": [5, 9]}),
            OpenApiExample("Labelled", value=CONVERSATION_EXAMPLE, response_only=True),
        ],
    )
    def put(self, request: Request, pk: int) -> Response:
        row = _row(request, pk)
        body = io.LabelsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.set_labels(
            actor=Actor.from_request(request._request),
            conversation=row.conversation,
            labels=_labels(_agency(request), body.validated_data["labels"]),
        )
        return _answer(request, pk)


class NewestNoteFirst(CursorPagination):
    ordering = "-id"


class ConversationNotesApi(generics.GenericAPIView[Note]):
    schema = ApiAutoSchema()
    parser_classes = JSON_ONLY
    required_scope = {"GET": Scope.MESSAGES_READ, "POST": Scope.MESSAGES_SEND}
    pagination_class = NewestNoteFirst
    serializer_class = io.NoteSerializer

    @property
    def required_perm(self) -> Perm:
        return Perm.REPLY if self.request.method == "POST" else Perm.VIEW_INBOX

    def get_queryset(self) -> QuerySet[Note]:
        return selectors.notes_for_api(_row(self.request, self.kwargs["pk"]).conversation)

    @extend_schema(
        summary="The conversation's internal notes, newest first (messages:read)",
        responses=io.NoteSerializer(many=True),
        examples=[
            OpenApiExample(
                "A page",
                value=NOTE_EXAMPLE,
                response_only=True,
            )
        ],
    )
    def get(self, request: Request, pk: int) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        return self.get_paginated_response(io.NoteSerializer(page, many=True).data)

    @extend_schema(
        summary="Add an internal note (messages:send)",
        description=(
            "Private to staff, never sent to WhatsApp. Members mentioned as `@handle` (the "
            "part of their email before the @) are notified. Publishes `note.added`. Written "
            "by a credential, the note has no member author; `author_label` names the key. Send "
            "an `Idempotency-Key` to retry safely."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=io.NoteInputSerializer,
        responses={201: io.NoteSerializer},
        examples=[
            OpenApiExample("Note", value={"body": "Called back; @sam will send the form."}),
            OpenApiExample("Added", value=NOTE_EXAMPLE, response_only=True, status_codes=["201"]),
        ],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        row = _row(request, pk)
        body = io.NoteInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        member = _member(request)
        note = services.add_note(
            actor=Actor.from_request(request._request),
            author=member,
            conversation=row.conversation,
            body=body.validated_data["body"],
        )
        return Response(io.NoteSerializer(note).data, status=201)
