"""Typed request builders for every outbound message type (cloud-api.md §2).

Each builder is a frozen dataclass that validates itself on construction and raises
``InvalidMessageError(field, problem)`` naming the offending field, so bad input never reaches
Meta. ``build_message_payload`` wraps a builder in the common send envelope.

Limits are Meta's documented ones. Where Meta silently ignores a field that does not apply
(caption on audio, filename on image) we refuse it anyway (cloud-api.md §10): the caller
clearly expected it to show.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

from messaging.whatsapp.errors import InvalidMessageError

Json = dict[str, Any]
MediaKind = Literal["image", "video", "audio", "document", "sticker"]

MEDIA_KINDS: tuple[str, ...] = ("image", "video", "audio", "document", "sticker")
_CAPTION_KINDS = frozenset({"image", "video", "document"})
_NAMED_PARAM_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
_TEMPLATE_NAME_RE = re.compile(r"^[a-z0-9_]{1,512}$")
_PHONE_STRIP_RE = re.compile(r"[\s()+\-.]")


def _fail(field_name: str, problem: str) -> None:
    raise InvalidMessageError(field_name, problem)


def _require_text(value: str | None, field_name: str, max_len: int) -> None:
    if not isinstance(value, str) or not value.strip():
        _fail(field_name, "is required")
    elif len(value) > max_len:
        _fail(field_name, f"is longer than {max_len} characters ({len(value)})")


def _optional_text(value: str | None, field_name: str, max_len: int) -> None:
    if value is not None:
        _require_text(value, field_name, max_len)


def _require_https(url: str, field_name: str) -> None:
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        _fail(field_name, "must be an http(s) URL")


def _freeze(obj: Any, name: str) -> None:
    """Store a sequence attribute as a tuple so frozen builders stay immutable."""
    object.__setattr__(obj, name, tuple(getattr(obj, name)))


class OutboundMessage(Protocol):
    """What ``build_message_payload`` needs from a builder."""

    @property
    def message_type(self) -> str: ...  # a ClassVar on builders, a field on ``Prebuilt``

    def payload(self) -> Any: ...  # an object, or a list for contacts


# --------------------------------------------------------------------------- text, media


@dataclass(frozen=True)
class Text:
    body: str
    preview_url: bool = False
    message_type: ClassVar[str] = "text"

    def __post_init__(self) -> None:
        _require_text(self.body, "text.body", 4096)

    def payload(self) -> Json:
        return {"body": self.body, "preview_url": self.preview_url}


@dataclass(frozen=True)
class Media:
    """image / video / audio / document / sticker, by uploaded ``media_id`` or public ``link``."""

    kind: MediaKind
    media_id: str | None = None
    link: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool = False  # audio only: play as a voice note (OGG/Opus, cloud-api.md §10)

    def __post_init__(self) -> None:
        if not isinstance(self.voice, bool):
            _fail(f"{self.kind}.voice", "must be true or false")
        if self.voice and self.kind != "audio":
            _fail(f"{self.kind}.voice", "only audio can be a voice note")
        if self.kind not in MEDIA_KINDS:
            _fail("type", f"must be one of {', '.join(MEDIA_KINDS)}")
        if (self.media_id is None) == (self.link is None):
            _fail(f"{self.kind}.id", "give exactly one of id or link")
        if self.media_id is not None and not str(self.media_id).strip():
            _fail(f"{self.kind}.id", "is empty")
        if self.link is not None:
            _require_https(self.link, f"{self.kind}.link")
        if self.caption is not None:
            if self.kind not in _CAPTION_KINDS:
                _fail(f"{self.kind}.caption", f"{self.kind} messages cannot have a caption")
            _require_text(self.caption, f"{self.kind}.caption", 1024)
        if self.filename is not None:
            if self.kind != "document":
                _fail(f"{self.kind}.filename", "only documents can have a filename")
            _require_text(self.filename, "document.filename", 240)

    @property
    def message_type(self) -> str:
        return self.kind

    def payload(self) -> Json:
        body: Json = {"id": self.media_id} if self.media_id is not None else {"link": self.link}
        if self.caption is not None:
            body["caption"] = self.caption
        if self.filename is not None:
            body["filename"] = self.filename
        if self.voice:
            body["voice"] = True
        return body


def image(
    media_id: str | None = None, *, link: str | None = None, caption: str | None = None
) -> Media:
    return Media("image", media_id, link, caption)


def video(
    media_id: str | None = None, *, link: str | None = None, caption: str | None = None
) -> Media:
    return Media("video", media_id, link, caption)


def audio(media_id: str | None = None, *, link: str | None = None, voice: bool = False) -> Media:
    return Media("audio", media_id, link, voice=voice)


def sticker(media_id: str | None = None, *, link: str | None = None) -> Media:
    return Media("sticker", media_id, link)


def document(
    media_id: str | None = None,
    *,
    link: str | None = None,
    caption: str | None = None,
    filename: str | None = None,
) -> Media:
    return Media("document", media_id, link, caption, filename)


# --------------------------------------------------------------------------- location, contacts


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    message_type: ClassVar[str] = "location"

    def __post_init__(self) -> None:
        if not isinstance(self.latitude, int | float) or not -90 <= self.latitude <= 90:
            _fail("location.latitude", "must be a number between -90 and 90")
        if not isinstance(self.longitude, int | float) or not -180 <= self.longitude <= 180:
            _fail("location.longitude", "must be a number between -180 and 180")
        _optional_text(self.name, "location.name", 1000)
        _optional_text(self.address, "location.address", 1000)

    def payload(self) -> Json:
        body: Json = {"latitude": self.latitude, "longitude": self.longitude}
        if self.name is not None:
            body["name"] = self.name
        if self.address is not None:
            body["address"] = self.address
        return body


@dataclass(frozen=True)
class ContactPhone:
    phone: str
    type: str | None = None  # CELL, MAIN, IPHONE, HOME, WORK
    wa_id: str | None = None


@dataclass(frozen=True)
class ContactEmail:
    email: str
    type: str | None = None


@dataclass(frozen=True)
class ContactUrl:
    url: str
    type: str | None = None


@dataclass(frozen=True)
class ContactAddress:
    street: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    country_code: str | None = None
    type: str | None = None


@dataclass(frozen=True)
class ContactOrg:
    company: str | None = None
    department: str | None = None
    title: str | None = None


def _compact(obj: Any) -> Json:
    return {k: v for k, v in vars(obj).items() if v is not None}


@dataclass(frozen=True)
class Contact:
    formatted_name: str
    first_name: str | None = None
    last_name: str | None = None
    phones: Sequence[ContactPhone] = ()
    emails: Sequence[ContactEmail] = ()
    urls: Sequence[ContactUrl] = ()
    addresses: Sequence[ContactAddress] = ()
    org: ContactOrg | None = None
    birthday: str | None = None  # YYYY-MM-DD

    def __post_init__(self) -> None:
        for name in ("phones", "emails", "urls", "addresses"):
            _freeze(self, name)
        if self.birthday is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", self.birthday):
            _fail("contacts.birthday", "must be YYYY-MM-DD")

    def to_json(self) -> Json:
        name: Json = {"formatted_name": self.formatted_name}
        if self.first_name:
            name["first_name"] = self.first_name
        if self.last_name:
            name["last_name"] = self.last_name
        body: Json = {"name": name}
        for key in ("phones", "emails", "urls", "addresses"):
            items = getattr(self, key)
            if items:
                body[key] = [_compact(item) for item in items]
        if self.org is not None:
            body["org"] = _compact(self.org)
        if self.birthday:
            body["birthday"] = self.birthday
        return body


@dataclass(frozen=True)
class Contacts:
    contacts: Sequence[Contact]
    message_type: ClassVar[str] = "contacts"

    def __post_init__(self) -> None:
        _freeze(self, "contacts")
        if not self.contacts:
            _fail("contacts", "at least one contact is required")
        for i, contact in enumerate(self.contacts):
            _require_text(contact.formatted_name, f"contacts[{i}].name.formatted_name", 1000)

    def payload(self) -> list[Json]:  # contacts is a JSON array, not an object
        return [c.to_json() for c in self.contacts]


# --------------------------------------------------------------------------- interactive


@dataclass(frozen=True)
class Header:
    """Interactive header: text, or an image/video/document by id or link."""

    type: Literal["text", "image", "video", "document"]
    text: str | None = None
    media_id: str | None = None
    link: str | None = None

    def __post_init__(self) -> None:
        if self.type == "text":
            _require_text(self.text, "interactive.header.text", 60)
        elif self.type in ("image", "video", "document"):
            if (self.media_id is None) == (self.link is None):
                _fail(f"interactive.header.{self.type}", "give exactly one of id or link")
            if self.link is not None:
                _require_https(self.link, f"interactive.header.{self.type}.link")
        else:
            _fail("interactive.header.type", "must be text, image, video or document")

    def to_json(self) -> Json:
        if self.type == "text":
            return {"type": "text", "text": self.text}
        ref = {"id": self.media_id} if self.media_id is not None else {"link": self.link}
        return {"type": self.type, self.type: ref}


def _interactive_common(body: str | None, footer: str | None, *, body_required: bool) -> None:
    if body_required or body is not None:
        _require_text(body, "interactive.body.text", 1024)
    _optional_text(footer, "interactive.footer.text", 60)


def _interactive(kind: str, header: Header | None, body: str | None, footer: str | None) -> Json:
    out: Json = {"type": kind}
    if header is not None:
        out["header"] = header.to_json()
    if body is not None:
        out["body"] = {"text": body}
    if footer is not None:
        out["footer"] = {"text": footer}
    return out


@dataclass(frozen=True)
class ReplyButton:
    id: str
    title: str


@dataclass(frozen=True)
class ReplyButtons:
    body: str
    buttons: Sequence[ReplyButton]
    header: Header | None = None
    footer: str | None = None
    message_type: ClassVar[str] = "interactive"

    def __post_init__(self) -> None:
        _freeze(self, "buttons")
        _interactive_common(self.body, self.footer, body_required=True)
        if not 1 <= len(self.buttons) <= 3:
            _fail("interactive.action.buttons", f"needs 1 to 3 buttons, got {len(self.buttons)}")
        for i, button in enumerate(self.buttons):
            where = f"interactive.action.buttons[{i}].reply"
            _require_text(button.id, f"{where}.id", 256)
            if button.id != button.id.strip():
                _fail(f"{where}.id", "must not start or end with spaces")
            _require_text(button.title, f"{where}.title", 20)
        if len({b.id for b in self.buttons}) != len(self.buttons):
            _fail("interactive.action.buttons", "button ids must be unique")
        if len({b.title for b in self.buttons}) != len(self.buttons):
            _fail("interactive.action.buttons", "button titles must be unique")

    def payload(self) -> Json:
        out = _interactive("button", self.header, self.body, self.footer)
        buttons = [{"type": "reply", "reply": {"id": b.id, "title": b.title}} for b in self.buttons]
        out["action"] = {"buttons": buttons}
        return out


@dataclass(frozen=True)
class ListRow:
    id: str
    title: str
    description: str | None = None


@dataclass(frozen=True)
class ListSection:
    rows: Sequence[ListRow]
    title: str | None = None

    def __post_init__(self) -> None:
        _freeze(self, "rows")


@dataclass(frozen=True)
class ListMessage:
    body: str
    button: str
    sections: Sequence[ListSection]
    header: Header | None = None
    footer: str | None = None
    message_type: ClassVar[str] = "interactive"

    def __post_init__(self) -> None:
        _freeze(self, "sections")
        _interactive_common(self.body, self.footer, body_required=True)
        _require_text(self.button, "interactive.action.button", 20)
        if self.header is not None and self.header.type != "text":
            _fail("interactive.header.type", "list messages only take a text header")
        if not 1 <= len(self.sections) <= 10:
            _fail("interactive.action.sections", "needs 1 to 10 sections")
        rows = [row for section in self.sections for row in section.rows]
        if not 1 <= len(rows) <= 10:
            _fail("interactive.action.sections", f"needs 1 to 10 rows in total, got {len(rows)}")
        if len({r.id for r in rows}) != len(rows):
            _fail("interactive.action.sections", "row ids must be unique")
        for s, section in enumerate(self.sections):
            where = f"interactive.action.sections[{s}]"
            if len(self.sections) > 1 or section.title is not None:
                _require_text(section.title, f"{where}.title", 24)
            for r, row in enumerate(section.rows):
                _require_text(row.id, f"{where}.rows[{r}].id", 200)
                _require_text(row.title, f"{where}.rows[{r}].title", 24)
                _optional_text(row.description, f"{where}.rows[{r}].description", 72)

    def payload(self) -> Json:
        out = _interactive("list", self.header, self.body, self.footer)
        sections = []
        for section in self.sections:
            item: Json = {"rows": [_compact(row) for row in section.rows]}
            if section.title is not None:
                item["title"] = section.title
            sections.append(item)
        out["action"] = {"button": self.button, "sections": sections}
        return out


@dataclass(frozen=True)
class CtaUrl:
    body: str
    display_text: str
    url: str
    header: Header | None = None
    footer: str | None = None
    message_type: ClassVar[str] = "interactive"

    def __post_init__(self) -> None:
        _interactive_common(self.body, self.footer, body_required=True)
        _require_text(self.display_text, "interactive.action.parameters.display_text", 20)
        _require_https(self.url, "interactive.action.parameters.url")

    def payload(self) -> Json:
        out = _interactive("cta_url", self.header, self.body, self.footer)
        params = {"display_text": self.display_text, "url": self.url}
        out["action"] = {"name": "cta_url", "parameters": params}
        return out


@dataclass(frozen=True)
class Product:
    catalog_id: str
    product_retailer_id: str
    body: str | None = None
    footer: str | None = None
    message_type: ClassVar[str] = "interactive"

    def __post_init__(self) -> None:
        _interactive_common(self.body, self.footer, body_required=False)
        _require_text(self.catalog_id, "interactive.action.catalog_id", 100)
        _require_text(self.product_retailer_id, "interactive.action.product_retailer_id", 100)

    def payload(self) -> Json:
        out = _interactive("product", None, self.body, self.footer)
        out["action"] = {
            "catalog_id": self.catalog_id,
            "product_retailer_id": self.product_retailer_id,
        }
        return out


@dataclass(frozen=True)
class ProductSection:
    title: str
    product_retailer_ids: Sequence[str]

    def __post_init__(self) -> None:
        _freeze(self, "product_retailer_ids")


@dataclass(frozen=True)
class ProductList:
    header: str
    body: str
    catalog_id: str
    sections: Sequence[ProductSection]
    footer: str | None = None
    message_type: ClassVar[str] = "interactive"

    def __post_init__(self) -> None:
        _freeze(self, "sections")
        _require_text(self.header, "interactive.header.text", 60)
        _interactive_common(self.body, self.footer, body_required=True)
        _require_text(self.catalog_id, "interactive.action.catalog_id", 100)
        if not 1 <= len(self.sections) <= 10:
            _fail("interactive.action.sections", "needs 1 to 10 sections")
        total = sum(len(s.product_retailer_ids) for s in self.sections)
        if not 1 <= total <= 30:
            _fail("interactive.action.sections", f"needs 1 to 30 products in total, got {total}")
        for i, section in enumerate(self.sections):
            _require_text(section.title, f"interactive.action.sections[{i}].title", 24)

    def payload(self) -> Json:
        out = _interactive("product_list", Header("text", self.header), self.body, self.footer)
        sections = [
            {
                "title": s.title,
                "product_items": [{"product_retailer_id": p} for p in s.product_retailer_ids],
            }
            for s in self.sections
        ]
        out["action"] = {"catalog_id": self.catalog_id, "sections": sections}
        return out


@dataclass(frozen=True)
class Flow:
    body: str
    flow_id: str
    flow_token: str
    flow_cta: str
    flow_action: Literal["navigate", "data_exchange"] = "navigate"
    screen: str | None = None
    data: Mapping[str, Any] | None = None
    header: Header | None = None
    footer: str | None = None
    flow_message_version: str = "3"
    message_type: ClassVar[str] = "interactive"

    def __post_init__(self) -> None:
        where = "interactive.action.parameters"
        _interactive_common(self.body, self.footer, body_required=True)
        _require_text(self.flow_id, f"{where}.flow_id", 100)
        _require_text(self.flow_token, f"{where}.flow_token", 1000)
        _require_text(self.flow_cta, f"{where}.flow_cta", 20)
        if self.flow_action not in ("navigate", "data_exchange"):
            _fail(f"{where}.flow_action", "must be navigate or data_exchange")
        if self.flow_action == "navigate":
            _require_text(self.screen, f"{where}.flow_action_payload.screen", 100)

    def payload(self) -> Json:
        params: Json = {
            "flow_message_version": self.flow_message_version,
            "flow_token": self.flow_token,
            "flow_id": self.flow_id,
            "flow_cta": self.flow_cta,
            "flow_action": self.flow_action,
        }
        if self.screen is not None:
            action_payload: Json = {"screen": self.screen}
            if self.data:
                action_payload["data"] = dict(self.data)
            params["flow_action_payload"] = action_payload
        out = _interactive("flow", self.header, self.body, self.footer)
        out["action"] = {"name": "flow", "parameters": params}
        return out


@dataclass(frozen=True)
class LocationRequest:
    """Ask the citizen to share a location (a "Send location" button)."""

    body: str
    message_type: ClassVar[str] = "interactive"

    def __post_init__(self) -> None:
        _interactive_common(self.body, None, body_required=True)

    def payload(self) -> Json:
        out = _interactive("location_request_message", None, self.body, None)
        out["action"] = {"name": "send_location"}
        return out


@dataclass(frozen=True)
class ContactInfoRequest:
    """Ask a citizen known only by a username / business-scoped id for their phone number
    (a fixed "Share contact info" button); the answer arrives as a ``contacts`` message."""

    body: str
    message_type: ClassVar[str] = "interactive"

    def __post_init__(self) -> None:
        _interactive_common(self.body, None, body_required=True)

    def payload(self) -> Json:
        out = _interactive("request_contact_info", None, self.body, None)
        out["action"] = {"name": "request_contact_info"}
        return out


@dataclass(frozen=True)
class CarouselCard:
    """One card: an image or video header, optional text, and either one URL button
    (``display_text`` + ``url``) or one or two quick replies."""

    header: Header
    body: str | None = None
    display_text: str | None = None
    url: str | None = None
    quick_replies: Sequence[ReplyButton] = ()

    def __post_init__(self) -> None:
        _freeze(self, "quick_replies")

    @property
    def kind(self) -> str:
        return "button" if self.quick_replies else "cta_url"

    def check(self, where: str) -> None:
        if self.header.type not in ("image", "video"):
            _fail(f"{where}.header.type", "cards take an image or a video header")
        _optional_text(self.body, f"{where}.body.text", 160)
        has_url = self.display_text is not None or self.url is not None
        if has_url == bool(self.quick_replies):
            _fail(f"{where}.action", "give either a URL button or quick replies")
        if has_url:
            _require_text(self.display_text, f"{where}.action.parameters.display_text", 20)
            _require_https(str(self.url), f"{where}.action.parameters.url")
            return
        if len(self.quick_replies) > 2:
            _fail(f"{where}.action.buttons", "a card has at most 2 quick replies")
        for i, button in enumerate(self.quick_replies):
            _require_text(button.id, f"{where}.action.buttons[{i}].quick_reply.id", 256)
            _require_text(button.title, f"{where}.action.buttons[{i}].quick_reply.title", 20)

    def to_json(self, index: int) -> Json:
        card: Json = {"card_index": index, "type": self.kind, "header": self.header.to_json()}
        if self.body is not None:
            card["body"] = {"text": self.body}
        if self.quick_replies:
            buttons = [
                {"type": "quick_reply", "quick_reply": {"id": b.id, "title": b.title}}
                for b in self.quick_replies
            ]
            card["action"] = {"buttons": buttons}
        else:
            params = {"display_text": self.display_text, "url": self.url}
            card["action"] = {"name": "cta_url", "parameters": params}
        return card


@dataclass(frozen=True)
class Carousel:
    """Interactive media carousel: a body and 2-10 horizontally scrolling cards, all with
    the same header type and the same buttons (kind and count). No header or footer."""

    body: str
    cards: Sequence[CarouselCard]
    message_type: ClassVar[str] = "interactive"

    def __post_init__(self) -> None:
        _freeze(self, "cards")
        _interactive_common(self.body, None, body_required=True)
        if not 2 <= len(self.cards) <= 10:
            _fail("interactive.action.cards", f"needs 2 to 10 cards, got {len(self.cards)}")
        for i, card in enumerate(self.cards):
            card.check(f"interactive.action.cards[{i}]")
        shapes = {(c.header.type, c.kind, len(c.quick_replies)) for c in self.cards}
        if len(shapes) > 1:
            _fail("interactive.action.cards", "every card needs the same header type and buttons")

    def payload(self) -> Json:
        out = _interactive("carousel", None, self.body, None)
        out["action"] = {"cards": [card.to_json(i) for i, card in enumerate(self.cards)]}
        return out


# --------------------------------------------------------------------------- template


@dataclass(frozen=True)
class TextParam:
    """``{{1}}`` positional, or ``{{name}}`` when ``name`` is given (NAMED templates)."""

    text: str
    name: str | None = None

    def to_json(self, where: str) -> Json:
        if not isinstance(self.text, str) or self.text == "":
            _fail(f"{where}.text", "is required")
        out: Json = {"type": "text", "text": self.text}
        if self.name is not None:
            if not _NAMED_PARAM_RE.match(self.name):
                _fail(f"{where}.parameter_name", "use lowercase letters, digits and _")
            out["parameter_name"] = self.name
        return out


@dataclass(frozen=True)
class CurrencyParam:
    fallback_value: str
    code: str
    amount_1000: int
    name: str | None = None

    def to_json(self, where: str) -> Json:
        if not re.fullmatch(r"[A-Z]{3}", self.code or ""):
            _fail(f"{where}.currency.code", "must be an ISO 4217 code such as USD")
        _require_text(self.fallback_value, f"{where}.currency.fallback_value", 1024)
        cur: Json = {
            "fallback_value": self.fallback_value,
            "code": self.code,
            "amount_1000": int(self.amount_1000),
        }
        out: Json = {"type": "currency", "currency": cur}
        if self.name is not None:
            out["parameter_name"] = self.name
        return out


@dataclass(frozen=True)
class DateTimeParam:
    fallback_value: str
    name: str | None = None

    def to_json(self, where: str) -> Json:
        _require_text(self.fallback_value, f"{where}.date_time.fallback_value", 1024)
        out: Json = {"type": "date_time", "date_time": {"fallback_value": self.fallback_value}}
        if self.name is not None:
            out["parameter_name"] = self.name
        return out


@dataclass(frozen=True)
class MediaParam:
    """Header parameter for IMAGE / VIDEO / DOCUMENT template headers."""

    kind: Literal["image", "video", "document"]
    media_id: str | None = None
    link: str | None = None
    filename: str | None = None

    def to_json(self, where: str) -> Json:
        if self.kind not in ("image", "video", "document"):
            _fail(f"{where}.type", "must be image, video or document")
        if (self.media_id is None) == (self.link is None):
            _fail(f"{where}.{self.kind}", "give exactly one of id or link")
        if self.link is not None:
            _require_https(self.link, f"{where}.{self.kind}.link")
        if self.filename is not None and self.kind != "document":
            _fail(f"{where}.{self.kind}.filename", "only documents can have a filename")
        ref: Json = {"id": self.media_id} if self.media_id is not None else {"link": self.link}
        if self.filename is not None:
            ref["filename"] = self.filename
        return {"type": self.kind, self.kind: ref}


@dataclass(frozen=True)
class LocationParam:
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None

    def to_json(self, where: str) -> Json:
        Location(self.latitude, self.longitude, self.name, self.address)  # reuse its checks
        loc = _compact(self)
        return {"type": "location", "location": loc}


HeaderParam = TextParam | MediaParam | LocationParam
BodyParam = TextParam | CurrencyParam | DateTimeParam


@dataclass(frozen=True)
class QuickReplyButton:
    index: int
    payload: str

    sub_type: ClassVar[str] = "quick_reply"

    def parameters(self, where: str) -> list[Json]:
        _require_text(self.payload, f"{where}.payload", 1000)
        return [{"type": "payload", "payload": self.payload}]


@dataclass(frozen=True)
class UrlButton:
    """Fills the dynamic suffix of a URL button (also the OTP button of auth templates)."""

    index: int
    text: str

    sub_type: ClassVar[str] = "url"

    def parameters(self, where: str) -> list[Json]:
        _require_text(self.text, f"{where}.text", 2000)
        return [{"type": "text", "text": self.text}]


@dataclass(frozen=True)
class CopyCodeButton:
    index: int
    coupon_code: str

    sub_type: ClassVar[str] = "copy_code"

    def parameters(self, where: str) -> list[Json]:
        _require_text(self.coupon_code, f"{where}.coupon_code", 15)
        return [{"type": "coupon_code", "coupon_code": self.coupon_code}]


@dataclass(frozen=True)
class FlowButton:
    index: int
    flow_token: str = "unused"  # noqa: S105 - Meta's documented placeholder, not a secret
    flow_action_data: Mapping[str, Any] | None = None

    sub_type: ClassVar[str] = "flow"

    def parameters(self, where: str) -> list[Json]:
        action: Json = {"flow_token": self.flow_token}
        if self.flow_action_data:
            action["flow_action_data"] = dict(self.flow_action_data)
        return [{"type": "action", "action": action}]


ButtonParam = QuickReplyButton | UrlButton | CopyCodeButton | FlowButton


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    header: HeaderParam | None = None
    body: Sequence[BodyParam] = ()
    buttons: Sequence[ButtonParam] = ()
    message_type: ClassVar[str] = "template"
    _components: tuple[Json, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _freeze(self, "body")
        _freeze(self, "buttons")
        if not isinstance(self.name, str) or not _TEMPLATE_NAME_RE.match(self.name):
            _fail("template.name", "use 1-512 lowercase letters, digits and _")
        if not re.fullmatch(r"[a-z]{2,3}([_-][A-Za-z]{2,4})?", self.language or ""):
            _fail("template.language.code", "must be a language code such as en or en_US")
        self._check_param_style()
        object.__setattr__(self, "_components", tuple(self._build_components()))

    def _check_param_style(self) -> None:
        # A location's ``name`` is the place's, not a parameter name: only value parameters.
        values = (TextParam, CurrencyParam, DateTimeParam)
        params = [p for p in (self.header, *self.body) if isinstance(p, values)]
        named = {getattr(p, "name", None) is not None for p in params}
        if len(named) > 1:
            _fail("template.components", "mixes named and positional parameters")
        indexes = [int(b.index) for b in self.buttons]
        if len(set(indexes)) != len(indexes):
            _fail("template.components.buttons", "button indexes must be unique")
        if any(not 0 <= i <= 9 for i in indexes):
            _fail("template.components.buttons.index", "must be between 0 and 9")

    def _build_components(self) -> list[Json]:
        components: list[Json] = []
        if self.header is not None:
            param = self.header.to_json("template.components.header.parameters[0]")
            components.append({"type": "header", "parameters": [param]})
        if self.body:
            params = [
                p.to_json(f"template.components.body.parameters[{i}]")
                for i, p in enumerate(self.body)
            ]
            components.append({"type": "body", "parameters": params})
        for button in self.buttons:
            where = f"template.components.button[{button.index}].parameters[0]"
            components.append(
                {
                    "type": "button",
                    "sub_type": button.sub_type,
                    "index": str(button.index),
                    "parameters": button.parameters(where),
                }
            )
        return components

    def payload(self) -> Json:
        out: Json = {"name": self.name, "language": {"code": self.language}}
        if self._components:
            out["components"] = list(self._components)
        return out


# --------------------------------------------------------------------------- reaction


@dataclass(frozen=True)
class Reaction:
    """React to ``message_id`` with ``emoji``; an empty emoji removes the reaction."""

    message_id: str
    emoji: str = ""
    message_type: ClassVar[str] = "reaction"

    def __post_init__(self) -> None:
        _require_text(self.message_id, "reaction.message_id", 256)
        if not isinstance(self.emoji, str) or len(self.emoji) > 10:
            _fail("reaction.emoji", "must be a single emoji or empty")

    def payload(self) -> Json:
        return {"message_id": self.message_id, "emoji": self.emoji}


# --------------------------------------------------------------------------- envelopes


def normalize_recipient(to: str) -> str:
    """Digits of an E.164 number; raises if it cannot be one."""
    if not isinstance(to, str):
        _fail("to", "must be a phone number string")
    digits = _PHONE_STRIP_RE.sub("", to)
    if not digits.isdigit() or not 7 <= len(digits) <= 15:
        _fail("to", "must be an E.164 phone number (7 to 15 digits)")
    return digits


def build_message_payload(
    to: str,
    message: OutboundMessage,
    *,
    context_message_id: str | None = None,
    biz_opaque_callback_data: str | None = None,
) -> Json:
    """The full JSON body for ``POST /{phone-number-id}/messages``."""
    recipient = normalize_recipient(to)
    body: Json = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": recipient,
        "type": message.message_type,
        message.message_type: message.payload(),
    }
    if context_message_id is not None:
        _require_text(context_message_id, "context.message_id", 256)
        body["context"] = {"message_id": context_message_id}
    if biz_opaque_callback_data is not None:
        if len(biz_opaque_callback_data.encode()) > 512:
            _fail("biz_opaque_callback_data", "is longer than 512 bytes")
        body["biz_opaque_callback_data"] = biz_opaque_callback_data
    return body


def build_mark_read_payload(message_id: str, *, typing_indicator: bool = False) -> Json:
    """Mark an inbound message read; optionally show the typing indicator (≤25 s)."""
    _require_text(message_id, "message_id", 256)
    body: Json = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
    if typing_indicator:
        body["typing_indicator"] = {"type": "text"}
    return body


@dataclass(frozen=True)
class Prebuilt:
    """A message payload built (and validated) earlier by one of the builders above and
    stored as JSON — how a queued message travels from the database to the worker."""

    message_type: str
    body: Json

    def payload(self) -> Json:
        return self.body


def stored_form(message: OutboundMessage) -> Json:
    """``{"type": ..., <type>: payload}``: what ``Prebuilt`` is rebuilt from."""
    return {"type": message.message_type, message.message_type: message.payload()}


def from_stored_form(stored: Json) -> Prebuilt:
    return Prebuilt(stored["type"], stored[stored["type"]])
