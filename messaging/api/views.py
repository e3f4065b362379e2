"""The messages and media API: send any outbound type, read a message with its status
history and a conversation's thread, upload and download media.

Every send goes through ``messaging.services.send_message`` (the one send path: Meta's rules,
the agency's DLP policy, trial mode); its refusals are 422 problems with the rule's code. A
test key's sends are ``sandbox`` messages: the worker sends them to the Cloud API simulator,
never to Meta. Reading needs ``messages:read``; sending and uploading ``messages:send``.
Staff signed in to the site are checked against their role: ``reply`` and ``view_inbox``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.composer.attachments import AttachmentRefused, check_attachment
from messaging import selectors, services
from messaging.api import serializers as io
from messaging.models import MediaObject, Message
from messaging.services import OutboundFile, Sender
from messaging.whatsapp.errors import CloudAPIError
from records.audit import Actor
from tenants.api.exceptions import ApiProblem
from tenants.api.idempotency import idempotent
from tenants.api.pagination import CursorPagination
from tenants.api.schema import IDEMPOTENCY_KEY, ApiAutoSchema
from tenants.api.scopes import Scope
from tenants.http import agency_request, request_agency
from tenants.models import Agency, PhoneNumber
from tenants.permissions import Perm

MESSAGE_EXAMPLE: dict[str, Any] = {
    "id": 90211,
    "wamid": None,
    "conversation": 4211,
    "direction": "out",
    "to": "+14155550100",
    "phone_number": 3,
    "type": "text",
    "content": {"type": "text", "text": {"body": "Your permit is ready.", "preview_url": False}},
    "status": "queued",
    "sandbox": False,
    "reply_to": None,
    "media": None,
    "error_code": None,
    "error_reason": "",
    "created_at": "2026-12-03T14:02:11Z",
    "links": {
        "self": "/api/v1/messages/90211",
        "conversation": "/api/v1/conversations/4211/",
    },
}
DETAIL_EXAMPLE: dict[str, Any] = {
    **MESSAGE_EXAMPLE,
    "wamid": "wamid.HBgLMTQxNTU1NTAxMDAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA",
    "status": "read",
    "statuses": [
        {"status": "queued", "at": "2026-12-03T14:02:11Z"},
        {"status": "accepted", "at": "2026-12-03T14:02:12Z"},
        {"status": "sent", "at": "2026-12-03T14:02:13Z"},
        {"status": "delivered", "at": "2026-12-03T14:02:15Z"},
        {"status": "read", "at": "2026-12-03T14:03:40Z"},
    ],
}
MEDIA_EXAMPLE: dict[str, Any] = {
    "id": 512,
    "kind": "image",
    "mime_type": "image/jpeg",
    "size": 48213,
    "sha256": "9f2c0b1e6a4d3c2b1a09f8e7d6c5b4a39f2c0b1e6a4d3c2b1a09f8e7d6c5b4a3",
    "filename": "permit.jpg",
    "phone_number": 3,
    "created_at": "2026-12-03T14:01:00Z",
}
SEND_EXAMPLES = [
    OpenApiExample(
        "Text",
        value={"to": "+14155550100", "type": "text", "text": {"body": "Your permit is ready."}},
        request_only=True,
    ),
    OpenApiExample(
        "Template",
        value={
            "to": "+14155550100",
            "type": "template",
            "template": {
                "name": "permit_ready",
                "language": {"code": "en_US"},
                "components": [
                    {"type": "body", "parameters": [{"type": "text", "text": "B-2291"}]}
                ],
            },
        },
        request_only=True,
    ),
    OpenApiExample(
        "Image by media id",
        value={
            "to": "+14155550100",
            "type": "image",
            "image": {"id": "512", "caption": "Your permit"},
        },
        request_only=True,
    ),
    OpenApiExample(
        "Reply buttons",
        value={
            "to": "+14155550100",
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Is the pothole fixed?"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                        {"type": "reply", "reply": {"id": "no", "title": "No"}},
                    ]
                },
            },
        },
        request_only=True,
    ),
    OpenApiExample("Queued", value=MESSAGE_EXAMPLE, response_only=True, status_codes=["202"]),
]


def _agency(request: Request) -> Agency:
    return request_agency(request)


def _sender(request: Request) -> Sender:
    actor = Actor.from_request(request._request)
    credential = agency_request(request).api_credential
    if credential is not None:
        return Sender.api(credential, actor)
    user = request.user
    if not isinstance(user, User):  # IsAgencyMember let nobody else through
        raise Http404
    return Sender.staff(user, actor)


def _pk(value: Any) -> int:
    if not 0 < value < io.MAX_ID:
        raise Http404
    return int(value)


def _number(agency: Agency, pk: int | None, field: str) -> PhoneNumber | None:
    if pk is None:
        return None
    number = selectors.phone_number_of_agency(agency, pk)
    if number is None:
        raise serializers.ValidationError({field: ["No phone number of this agency has this id."]})
    return number


def _history(row: Message) -> list[dict[str, Any]]:
    """The transitions the row recorded (each step keeps its earliest time), in time order."""
    steps = [
        ("queued", row.created_at if row.direction == Message.Direction.OUTBOUND else None),
        ("received", row.received_at),
        ("accepted", row.accepted_at),
        ("sent", row.sent_at),
        ("delivered", row.delivered_at),
        ("read", row.read_at),
    ]
    out: list[dict[str, Any]] = [{"status": s, "at": at} for s, at in steps if at is not None]
    if row.failed_at is not None:
        out.append(
            {
                "status": "failed",
                "at": row.failed_at,
                "error_code": row.error_code,
                "error_reason": row.error_reason,
            }
        )
    return sorted(out, key=lambda item: item["at"])


def message_data(row: Message) -> dict[str, Any]:
    outbound = row.direction == Message.Direction.OUTBOUND
    contact = row.contact
    phone = contact.phone_e164 or (f"+{contact.wa_id}" if contact.wa_id else None)
    return {
        "id": row.pk,
        "wamid": row.wamid,
        "conversation": row.conversation_id,
        "direction": row.direction,
        "to": phone if outbound else None,
        "phone_number": row.phone_number_id,
        "type": row.type,
        "content": row.content,
        "status": row.status,
        "sandbox": row.sandbox,
        "reply_to": row.reply_to_wamid or None,
        "media": row.media_id,
        "error_code": row.error_code,
        "error_reason": row.error_reason,
        "created_at": row.created_at,
        "links": {
            "self": reverse("api-message", args=[row.pk]),
            "conversation": reverse("api-conversation", args=[row.conversation_id]),
        },
    }


def _media_lookup(agency: Agency, data: dict[str, Any]) -> dict[str, MediaObject]:
    wanted = io.media_ids(data)
    found = selectors.media_of_agency(agency, [int(i) for i in wanted])
    lookup: dict[str, MediaObject] = {}
    for ref in sorted(wanted):
        media = found.get(int(ref))
        if media is None or media.status != MediaObject.Status.STORED:
            raise ApiProblem(
                400, "media_not_found", f"No uploaded media of this agency has the id {ref}."
            )
        lookup[ref] = media
    return lookup


def _sent_media(data: dict[str, Any], lookup: dict[str, MediaObject]) -> MediaObject | None:
    """Our copy of the file a media message sends by id (the thread shows it)."""
    ref = data[data["type"]].get("id") if data["type"] in io.builders.MEDIA_KINDS else None
    return lookup.get(ref) if ref else None


class MessageSendApi(APIView):
    schema = ApiAutoSchema()
    parser_classes = [JSONParser]  # a form or multipart body is a 415
    required_perm = Perm.REPLY
    required_scope = Scope.MESSAGES_SEND

    @extend_schema(
        summary="Send a message of any type (messages:send)",
        description=(
            "The body is the Cloud API's message object (`type` and the object of that type: "
            "`text`, `template`, `image`, `video`, `audio`, `document`, `sticker`, "
            "`location`, `contacts`, `interactive`, `reaction`) with `to` (E.164 or a "
            "wa_id), and optionally `phone_number_id` (our id; the agency's connected "
            "number otherwise) and `reply_to` (the wamid quoted). Media by the id "
            "`POST /api/v1/media` answered, or an https `link`. Sending rules refuse with "
            "422 and the rule's code: `window_closed`, `no_opt_in`, `opted_out`, "
            "`template_not_found`, `template_not_approved`, `template_params`, "
            "`tier_limit`, `marketing_unavailable`, `sensitive_data`, `invalid_recipient`, "
            "`sender_unavailable`, `trial_recipient`. The answer is 202: the message is "
            "queued; its statuses follow (`GET /api/v1/messages/{id}`, `message.status` "
            "webhooks). With a test key, the message goes to the Cloud API simulator and "
            "never reaches Meta or a citizen (`sandbox: true`)."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=io.SendSerializer,
        responses={202: io.MessageSerializer},
        examples=SEND_EXAMPLES,
    )
    @idempotent
    def post(self, request: Request) -> Response:
        agency = _agency(request)
        body = io.SendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        number = _number(agency, data.get("phone_number_id"), "phone_number_id")
        lookup = _media_lookup(agency, data)
        message = io.build(data, lookup)
        row = services.send_message(
            agency=agency,
            sender=_sender(request),
            to=data["to"],
            message=message,
            phone_number=number,
            reply_to_wamid=data.get("reply_to", ""),
            media=_sent_media(data, lookup),
        )
        return Response(io.MessageSerializer(message_data(row)).data, status=202)


class MessageDetailApi(APIView):
    schema = ApiAutoSchema()
    required_perm = Perm.VIEW_INBOX
    required_scope = Scope.MESSAGES_READ

    @extend_schema(
        summary="A message with its status history (messages:read)",
        description=(
            "`statuses`: each step the message took, in time order (queued, accepted by the "
            "Cloud API, sent, delivered, read; or failed with Meta's error code and words "
            "for staff). Inbound messages: received."
        ),
        responses=io.MessageDetailSerializer,
        examples=[OpenApiExample("Read", value=DETAIL_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, pk: int) -> Response:
        row = selectors.get_message(_agency(request), _pk(pk))
        if row is None:
            raise Http404
        data = {**message_data(row), "statuses": _history(row)}
        return Response(io.MessageDetailSerializer(data).data)


class Oldest(CursorPagination):
    ordering = ("created_at", "id")  # type: ignore[assignment]  # DRF takes a tuple


class Newest(CursorPagination):
    ordering = ("-created_at", "-id")  # type: ignore[assignment]  # DRF takes a tuple


class ConversationMessagesApi(generics.GenericAPIView[Message]):
    schema = ApiAutoSchema()
    required_perm = Perm.VIEW_INBOX
    required_scope = Scope.MESSAGES_READ
    serializer_class = io.MessageSerializer

    @property
    def paginator(self) -> CursorPagination:
        if not hasattr(self, "_paginator"):
            newest = self.request.query_params.get("ordering") == "-created_at"
            self._paginator = Newest() if newest else Oldest()
        return self._paginator

    @extend_schema(
        summary="A conversation's messages, oldest first (messages:read)",
        description=(
            "Both directions, cursor-paginated; `ordering=-created_at` for newest first. "
            "`since`/`until` bound the creation time (ISO-8601; `until` excluded)."
        ),
        parameters=[io.MessageFiltersSerializer],
        responses=io.MessageSerializer(many=True),
        examples=[
            OpenApiExample(
                "A page",
                value=MESSAGE_EXAMPLE,
                response_only=True,
            )
        ],
    )
    def get(self, request: Request, pk: int) -> Response:
        agency = _agency(request)
        params = io.MessageFiltersSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        conversation = selectors.get_conversation(agency, _pk(pk))
        if conversation is None:
            raise Http404
        filters = params.validated_data
        rows = selectors.messages_for_conversation(
            conversation,
            direction=filters.get("direction"),
            since=filters.get("since"),
            until=filters.get("until"),
        )
        page = self.paginate_queryset(rows) or []
        data = [io.MessageSerializer(message_data(row)).data for row in page]
        return self.get_paginated_response(data)


# --- Media ---------------------------------------------------------------------------------


def media_data(media: MediaObject) -> dict[str, Any]:
    return {
        "id": media.pk,
        "kind": media.kind,
        "mime_type": media.mime_type,
        "size": media.size_bytes or 0,
        "sha256": media.sha256,
        "filename": media.filename,
        "phone_number": media.phone_number_id,
        "created_at": media.created_at,
    }


def _checked_file(upload: Any) -> OutboundFile:
    """WhatsApp's media limits, as the inbox's composer checks an agent's attachment."""
    if not upload.size:
        raise ApiProblem(400, "empty_file", "The file is empty.")
    try:
        checked = check_attachment(upload)
    except AttachmentRefused as exc:
        # The composer's refusals name a size ("The file is 6 MB; ...") or a type.
        too_big = str(exc).startswith("The file is ")
        status, code = (413, "file_too_large") if too_big else (415, "unsupported_file_type")
        raise ApiProblem(status, code, str(exc)) from exc
    return OutboundFile(
        checked.kind, checked.mime_type, checked.filename, checked.content, checked.sha256
    )


class MediaUploadApi(APIView):
    schema = ApiAutoSchema()
    parser_classes = [MultiPartParser, FormParser]
    required_perm = Perm.REPLY
    required_scope = Scope.MESSAGES_SEND

    @extend_schema(
        summary="Upload a file to send (messages:send)",
        description=(
            "Multipart, the file in `file`; optionally `phone_number_id` (our id: the number "
            "that will send it; the agency's connected number otherwise). The type is read "
            "from the file's first bytes, not its name: images JPEG/PNG up to 5 MB, videos "
            "MP4/3GPP 16 MB, audio AAC/MP4/MP3/AMR/OGG 16 MB, documents PDF/Office/plain "
            "text 100 MB, stickers WebP 500 KB. An empty file is 400 `empty_file`, a file "
            "over its limit 413 `file_too_large`, any other type 415 "
            "`unsupported_file_type`; the Cloud API refusing it 422 `media_upload_failed`. "
            'Send it with `image: {"id": "<id>"}` (or video, audio, document, sticker).'
        ),
        parameters=[IDEMPOTENCY_KEY],
        request={"multipart/form-data": io.MediaUploadSerializer},
        responses={201: io.MediaFileSerializer},
        examples=[
            OpenApiExample("Stored", value=MEDIA_EXAMPLE, response_only=True, status_codes=["201"])
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        agency = _agency(request)
        body = io.MediaUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        number = _number(agency, body.validated_data.get("phone_number_id"), "phone_number_id")
        file = _checked_file(body.validated_data["file"])
        sandbox = _sender(request).sandbox
        try:
            media = services.upload_media(
                agency=agency,
                number=number or services.default_phone_number(agency),
                file=file,
                sandbox=sandbox,
            )
        except CloudAPIError as exc:
            raise ApiProblem(
                422, "media_upload_failed", "WhatsApp did not accept the file; try again."
            ) from exc
        return Response(io.MediaFileSerializer(media_data(media)).data, status=201)


def _binary(description: str) -> OpenApiResponse:
    example = OpenApiExample(
        "File",
        summary="The file's bytes",
        value="(the file's bytes)",
        media_type="application/octet-stream",
        status_codes=["200"],
    )
    return OpenApiResponse(
        response=OpenApiTypes.BINARY, description=description, examples=[example]
    )


class MediaDownloadApi(APIView):
    schema = ApiAutoSchema()
    required_perm = Perm.VIEW_INBOX
    required_scope = Scope.MESSAGES_READ

    @extend_schema(
        summary="Download a media file (messages:read)",
        description=(
            "The bytes of a file the agency received from a citizen or uploaded to send, with "
            "its Content-Type and `Content-Disposition: attachment`. A file not stored (still "
            "downloading from Meta, or refused for its size or type) is 409 "
            "`media_not_stored`."
        ),
        responses={(200, "application/octet-stream"): _binary("The file, as an attachment.")},
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        media = selectors.media_of_agency(_agency(request), [_pk(pk)]).get(pk)
        if media is None:
            raise Http404
        if media.status != MediaObject.Status.STORED or not media.storage_key:
            raise ApiProblem(409, "media_not_stored", "This file is not stored (yet).")
        response = FileResponse(
            default_storage.open(media.storage_key, "rb"),
            as_attachment=True,
            filename=media.filename or f"media-{media.pk}",
            content_type=media.mime_type or "application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response
