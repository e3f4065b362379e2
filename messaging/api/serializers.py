"""The messages API's bodies: Meta's Cloud API message object (cloud-api.md §2) plus our
fields, parsed into the builders of ``messaging.whatsapp.builders``.

The serializers check shapes and types (a 400 with a pointer for each wrong field); the
builders then check WhatsApp's own limits, and their ``InvalidMessageError`` becomes a 400 at
the field it names. Media are referred to by the id ``POST /api/v1/media`` answered (our
id; ``resolve`` swaps in the Cloud API's) or by an https ``link``.
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

from messaging.models import MediaObject
from messaging.whatsapp import builders
from messaging.whatsapp.errors import InvalidMessageError

MAX_ID = 2**63
MESSAGE_TYPES = (
    "text",
    "template",
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "reaction",
)
SHORT = 1024
LONG = 4096


class StrictCharField(serializers.CharField):
    """A string, not a number DRF would turn into one (``{"body": 5}`` is a 400)."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _text(max_length: int = SHORT, **kwargs: Any) -> serializers.CharField:
    return StrictCharField(max_length=max_length, trim_whitespace=False, **kwargs)


def _optional(max_length: int = SHORT) -> serializers.CharField:
    return _text(max_length, required=False)


def _many(
    child: serializers.Serializer[Any], max_length: int, *, required: bool = False
) -> serializers.ListSerializer[Any]:
    return serializers.ListSerializer(
        child=child, max_length=max_length, required=required, allow_empty=not required
    )


class SendTextSerializer(serializers.Serializer[Any]):
    body = _text(LONG)
    preview_url = serializers.BooleanField(required=False, default=False)


class MediaRefSerializer(serializers.Serializer[Any]):
    id = serializers.CharField(
        required=False, max_length=20, help_text="The id `POST /api/v1/media` answered."
    )
    link = serializers.URLField(required=False, max_length=2000)
    caption = _optional()
    filename = _optional(240)
    voice = serializers.BooleanField(required=False, default=False)

    def validate_id(self, value: str) -> str:
        if not value.isdigit() or not 0 < int(value) < MAX_ID:
            raise serializers.ValidationError("Give the id POST /api/v1/media answered.")
        return value


class SendLocationSerializer(serializers.Serializer[Any]):
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)
    name = _optional()
    address = _optional()


class ContactNameSerializer(serializers.Serializer[Any]):
    formatted_name = _text()
    first_name = _optional(200)
    last_name = _optional(200)


class ContactPhoneSerializer(serializers.Serializer[Any]):
    phone = _text(40)
    type = _optional(20)
    wa_id = _optional(32)


class ContactEmailSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField()
    type = _optional(20)


class ContactUrlSerializer(serializers.Serializer[Any]):
    url = serializers.URLField(max_length=2000)
    type = _optional(20)


class ContactOrgSerializer(serializers.Serializer[Any]):
    company = _optional(200)
    department = _optional(200)
    title = _optional(200)


class ContactCardSerializer(serializers.Serializer[Any]):
    name = ContactNameSerializer()
    phones = _many(ContactPhoneSerializer(), 20)
    emails = _many(ContactEmailSerializer(), 20)
    urls = _many(ContactUrlSerializer(), 20)
    org = ContactOrgSerializer(required=False)
    birthday = _optional(10)


class InteractiveTextSerializer(serializers.Serializer[Any]):
    text = _text()


class HeaderMediaSerializer(serializers.Serializer[Any]):
    id = serializers.CharField(required=False, max_length=20)
    link = serializers.URLField(required=False, max_length=2000)


class InteractiveHeaderSerializer(serializers.Serializer[Any]):
    type = serializers.ChoiceField(choices=["text", "image", "video", "document"])
    text = _optional(60)
    image = HeaderMediaSerializer(required=False)
    video = HeaderMediaSerializer(required=False)
    document = HeaderMediaSerializer(required=False)


class ReplySerializer(serializers.Serializer[Any]):
    id = _text(256)
    title = _text(20)


class ReplyButtonSerializer(serializers.Serializer[Any]):
    type = serializers.ChoiceField(choices=["reply"], required=False, default="reply")
    reply = ReplySerializer()


class ListRowSerializer(serializers.Serializer[Any]):
    id = _text(200)
    title = _text(24)
    description = _optional(72)


class ListSectionSerializer(serializers.Serializer[Any]):
    title = _optional(24)
    rows = _many(ListRowSerializer(), 10, required=True)


class CtaParametersSerializer(serializers.Serializer[Any]):
    display_text = _text(20)
    url = serializers.URLField(max_length=2000)


class InteractiveActionSerializer(serializers.Serializer[Any]):
    buttons = _many(ReplyButtonSerializer(), 3)
    button = _optional(20)
    sections = _many(ListSectionSerializer(), 10)
    name = _optional(20)
    parameters = CtaParametersSerializer(required=False)


class InteractiveSerializer(serializers.Serializer[Any]):
    type = serializers.ChoiceField(choices=["button", "list", "cta_url"])
    header = InteractiveHeaderSerializer(required=False)
    body = InteractiveTextSerializer()
    footer = InteractiveTextSerializer(required=False)
    action = InteractiveActionSerializer()


class SendReactionSerializer(serializers.Serializer[Any]):
    message_id = _text(256)
    emoji = _text(10, allow_blank=True, required=False, default="")


class TemplateLanguageSerializer(serializers.Serializer[Any]):
    code = _text(16)


class TemplateParameterSerializer(serializers.Serializer[Any]):
    type = serializers.ChoiceField(
        choices=[
            *("text", "currency", "date_time", "image", "video", "document", "location"),
            *("payload", "coupon_code"),
        ]
    )
    parameter_name = _optional(100)
    text = _optional()
    payload = _optional(1000)
    coupon_code = _optional(15)
    currency = serializers.DictField(required=False)
    date_time = serializers.DictField(required=False)
    image = HeaderMediaSerializer(required=False)
    video = HeaderMediaSerializer(required=False)
    document = HeaderMediaSerializer(required=False)
    location = SendLocationSerializer(required=False)


class TemplateComponentSerializer(serializers.Serializer[Any]):
    type = serializers.ChoiceField(choices=["header", "body", "button"])
    sub_type = serializers.ChoiceField(choices=["quick_reply", "url", "copy_code"], required=False)
    index = serializers.IntegerField(min_value=0, max_value=9, required=False)
    parameters = _many(TemplateParameterSerializer(), 100)


class SendTemplateSerializer(serializers.Serializer[Any]):
    name = _text(512)
    language = TemplateLanguageSerializer()
    components = _many(TemplateComponentSerializer(), 20)


class SendSerializer(serializers.Serializer[Any]):
    """``POST /api/v1/messages``: Meta's message object with ``to`` and our fields."""

    to = StrictCharField(max_length=32, help_text="E.164 (+14155550100) or a wa_id.")
    phone_number_id = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID - 1, help_text="Our phone number id."
    )
    type = serializers.ChoiceField(choices=MESSAGE_TYPES)
    reply_to = _optional(256)
    messaging_product = serializers.ChoiceField(choices=["whatsapp"], required=False)
    recipient_type = serializers.ChoiceField(choices=["individual"], required=False)
    text = SendTextSerializer(required=False)
    template = SendTemplateSerializer(required=False)
    image = MediaRefSerializer(required=False)
    video = MediaRefSerializer(required=False)
    audio = MediaRefSerializer(required=False)
    document = MediaRefSerializer(required=False)
    sticker = MediaRefSerializer(required=False)
    location = SendLocationSerializer(required=False)
    contacts = _many(ContactCardSerializer(), 10)
    interactive = InteractiveSerializer(required=False)
    reaction = SendReactionSerializer(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs["type"]
        if kind not in attrs:
            raise serializers.ValidationError(
                {kind: [f"A {kind} message needs a `{kind}` object."]}
            )
        others = [name for name in MESSAGE_TYPES if name != kind and name in attrs]
        if others:
            raise serializers.ValidationError({others[0]: [f"Not allowed in a {kind} message."]})
        return attrs


# --- Body → builder -----------------------------------------------------------------------

_INDEX = re.compile(r"\[(\d+)\]")


def invalid_at(field: str, problem: str) -> serializers.ValidationError:
    """A builder's ``InvalidMessageError`` (``interactive.action.buttons[0].reply.id``) as a
    field error at that pointer."""
    parts = [p for p in _INDEX.sub(r".\1", field).split(".") if p]
    detail: Any = [problem[:1].upper() + problem[1:] + "."]
    for part in reversed(parts):
        detail = {part: detail}
    return serializers.ValidationError(detail)


MediaLookup = dict[str, MediaObject]


def _media_id(ref: dict[str, Any], media: MediaLookup) -> str | None:
    """The Cloud API's id of our media ``ref["id"]`` (``media`` maps ours to the object)."""
    if "id" not in ref:
        return None
    return media[ref["id"]].meta_media_id


def _media(kind: str, data: dict[str, Any], media: MediaLookup) -> builders.Media:
    return builders.Media(
        kind,  # type: ignore[arg-type]  # one of MEDIA_KINDS (the serializer's choices)
        _media_id(data, media),
        data.get("link"),
        data.get("caption"),
        data.get("filename"),
        voice=data.get("voice", False),
    )


def _contact(card: dict[str, Any]) -> builders.Contact:
    org = card.get("org")
    return builders.Contact(
        formatted_name=card["name"]["formatted_name"],
        first_name=card["name"].get("first_name"),
        last_name=card["name"].get("last_name"),
        phones=[builders.ContactPhone(**p) for p in card.get("phones", [])],
        emails=[builders.ContactEmail(**e) for e in card.get("emails", [])],
        urls=[builders.ContactUrl(**u) for u in card.get("urls", [])],
        org=builders.ContactOrg(**org) if org else None,
        birthday=card.get("birthday"),
    )


def _header(data: dict[str, Any] | None, media: MediaLookup) -> builders.Header | None:
    if data is None:
        return None
    kind = data["type"]
    ref = (data.get(kind) or {}) if kind != "text" else {}
    return builders.Header(kind, data.get("text"), _media_id(ref, media), ref.get("link"))


def _interactive(data: dict[str, Any], media: MediaLookup) -> builders.OutboundMessage:
    action, kind = data["action"], data["type"]
    header = _header(data.get("header"), media)
    footer = data["footer"]["text"] if "footer" in data else None
    body = data["body"]["text"]
    if kind == "button":
        buttons = [
            builders.ReplyButton(b["reply"]["id"], b["reply"]["title"])
            for b in action.get("buttons", [])
        ]
        return builders.ReplyButtons(body, buttons, header=header, footer=footer)
    if kind == "list":
        sections = [
            builders.ListSection(
                [builders.ListRow(r["id"], r["title"], r.get("description")) for r in s["rows"]],
                s.get("title"),
            )
            for s in action.get("sections", [])
        ]
        return builders.ListMessage(
            body, action.get("button", ""), sections, header=header, footer=footer
        )
    params = action.get("parameters") or {}
    return builders.CtaUrl(
        body, params.get("display_text", ""), params.get("url", ""), header=header, footer=footer
    )


def _parameter(param: dict[str, Any], media: MediaLookup, where: str) -> Any:
    kind, name = param["type"], param.get("parameter_name")
    if kind == "text":
        return builders.TextParam(param.get("text", ""), name)
    if kind == "currency":
        cur = param.get("currency") or {}
        amount = cur.get("amount_1000")
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise invalid_at(f"{where}.currency.amount_1000", "must be an integer")
        return builders.CurrencyParam(
            str(cur.get("fallback_value", "")), str(cur.get("code", "")), amount, name
        )
    if kind == "date_time":
        value = (param.get("date_time") or {}).get("fallback_value", "")
        return builders.DateTimeParam(str(value), name)
    if kind in ("image", "video", "document"):
        ref = param.get(kind) or {}
        return builders.MediaParam(kind, _media_id(ref, media), ref.get("link"))
    if kind == "location":
        loc = param.get("location")
        if loc is None:
            raise invalid_at(f"{where}.location", "is required")
        return builders.LocationParam(
            loc["latitude"], loc["longitude"], loc.get("name"), loc.get("address")
        )
    raise invalid_at(f"{where}.type", f"{kind} is not a header or body parameter")


def _button(component: dict[str, Any], where: str) -> builders.ButtonParam:
    sub_type, index = component.get("sub_type"), component.get("index")
    if sub_type is None or index is None:
        raise invalid_at(where, "a button component needs sub_type and index")
    params = component.get("parameters") or [{}]
    first = params[0]
    if sub_type == "quick_reply":
        return builders.QuickReplyButton(index, first.get("payload", ""))
    if sub_type == "url":
        return builders.UrlButton(index, first.get("text", ""))
    return builders.CopyCodeButton(index, first.get("coupon_code", ""))


def _template(data: dict[str, Any], media: MediaLookup) -> builders.Template:
    header: Any = None
    body: list[Any] = []
    buttons: list[builders.ButtonParam] = []
    for i, component in enumerate(data.get("components", [])):
        where = f"template.components[{i}]"
        params = component.get("parameters", [])
        if component["type"] == "header":
            if len(params) != 1:
                raise invalid_at(f"{where}.parameters", "a header takes exactly one parameter")
            header = _parameter(params[0], media, f"{where}.parameters[0]")
        elif component["type"] == "body":
            body += [_parameter(p, media, f"{where}.parameters[{j}]") for j, p in enumerate(params)]
        else:
            buttons.append(_button(component, where))
    return builders.Template(
        data["name"], data["language"]["code"], header=header, body=body, buttons=buttons
    )


def media_ids(data: dict[str, Any]) -> set[str]:
    """Our media ids the body refers to (to look up, scoped, before building)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in builders.MEDIA_KINDS and isinstance(item, dict) and "id" in item:
                    found.add(str(item["id"]))
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk({k: v for k, v in data.items() if k in MESSAGE_TYPES})
    return found


def build(data: dict[str, Any], media: MediaLookup) -> builders.OutboundMessage:
    """The builder for a validated body; a 400 at the field a builder refuses."""
    kind = data["type"]
    body = data[kind]
    try:
        if kind == "text":
            return builders.Text(body["body"], body.get("preview_url", False))
        if kind in builders.MEDIA_KINDS:
            return _media(kind, body, media)
        if kind == "location":
            return builders.Location(
                body["latitude"], body["longitude"], body.get("name"), body.get("address")
            )
        if kind == "contacts":
            return builders.Contacts([_contact(card) for card in body])
        if kind == "interactive":
            return _interactive(body, media)
        if kind == "reaction":
            return builders.Reaction(body["message_id"], body.get("emoji", ""))
        return _template(body, media)
    except InvalidMessageError as exc:
        raise invalid_at(exc.field, exc.problem) from exc


# --- Answers ------------------------------------------------------------------------------


class MessageStatusSerializer(serializers.Serializer[Any]):
    status = serializers.CharField()
    at = serializers.DateTimeField()
    error_code = serializers.IntegerField(allow_null=True, required=False)
    error_reason = serializers.CharField(required=False)


class MessageLinksSerializer(serializers.Serializer[Any]):
    self = serializers.CharField()
    conversation = serializers.CharField()


class MessageSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    wamid = serializers.CharField(allow_null=True)
    conversation = serializers.IntegerField()
    direction = serializers.ChoiceField(choices=["in", "out"])
    to = serializers.CharField(allow_null=True, help_text="E.164; null for inbound messages.")
    phone_number = serializers.IntegerField()
    type = serializers.CharField()
    content = serializers.JSONField(help_text="The Cloud API message object, without `to`.")
    status = serializers.CharField(
        help_text="queued, sending, accepted, sent, delivered, read, failed; inbound: received."
    )
    sandbox = serializers.BooleanField(help_text="Sent with a test key: never reached Meta.")
    reply_to = serializers.CharField(allow_null=True)
    media = serializers.IntegerField(allow_null=True)
    error_code = serializers.IntegerField(allow_null=True)
    error_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    links = MessageLinksSerializer()


class MessageDetailSerializer(MessageSerializer):
    statuses = MessageStatusSerializer(many=True)


class MessageFiltersSerializer(serializers.Serializer[Any]):
    direction = serializers.ChoiceField(choices=["in", "out"], required=False)
    since = serializers.DateTimeField(required=False, help_text="Created at or after (ISO-8601).")
    until = serializers.DateTimeField(required=False, help_text="Created before (ISO-8601).")
    ordering = serializers.ChoiceField(
        choices=["created_at", "-created_at"],
        required=False,
        default="created_at",
        help_text="Oldest first (default) or newest first.",
    )


class MediaUploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(help_text="JPEG/PNG, MP4/3GPP, AAC/MP3/OGG, PDF/Office, WebP.")
    phone_number_id = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID - 1, help_text="Our phone number id."
    )


class MediaFileSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    mime_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    filename = serializers.CharField()
    phone_number = serializers.IntegerField()
    created_at = serializers.DateTimeField()
