"""A conversation's messages as the thread shows them: one frozen ``MessageView`` per bubble.

``thread_items(messages)`` reads everything a thread needs in a fixed number of queries,
whatever its length: the quoted messages of replies (by wamid), the reactions on the
messages (folded onto them, the latest per reactor), then contacts, staff, API keys,
templates and media objects of all of them, one query each.

Message content is the Cloud API object as received or sent, and a citizen controls most
of it: every value is read defensively (a missing key, a list where an object should be,
a number where text should be), text is escaped before links are made clickable, and a
type we do not know renders as "Unsupported message (type)", never an error.
"""

from __future__ import annotations

import math
import re
import zoneinfo
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode

from django.db.models import prefetch_related_objects
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import urlize
from django.utils.safestring import SafeString, mark_safe

from messaging.models import Contact, MediaObject, Message
from messaging.whatsapp.errors import error_from_payload
from records.capture.versions import current_content, earlier_versions
from records.dlp.masking import Masker
from templates_mgr.models import MessageTemplate
from tenants.models import Agency

# Rows that change another message (or are reactions on one): never bubbles of their own.
_NOTICE_TYPES = frozenset({"edit", "revoke", "reaction"})
MEDIA_KINDS = frozenset({"image", "video", "audio", "document", "sticker"})
# The include that renders each kind (frontend/templates/inbox/messages/<kind>.html).
_KIND_TEMPLATES = {
    **{kind: kind for kind in MEDIA_KINDS},
    "text": "text",
    "location": "location",
    "contacts": "contacts",
    "interactive": "interactive",
    "button": "interactive",  # a template's quick-reply button, tapped
    "template": "template",
    "order": "order",
    "system": "notice",
    "request_welcome": "notice",
    "errors": "notice",
}
# WhatsApp's own notices, stored with the citizen as sender: WhatsApp says them.
_WHATSAPP_NOTICES = frozenset({"system", "errors"})
_MAX_ITEMS = 50  # list entries shown per message (contacts, rows, form fields…)
_MAX_SUMMARY = 120


# --- the views --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaView:
    kind: str
    mime_type: str
    filename: str
    size: str  # "1.2 MB", or "" when not known
    url: str | None  # the authenticated media view; None unless stored
    download_url: str | None
    state: str  # stored, pending, rejected, failed, not_kept
    note: str  # why there is no file, in words
    voice: bool = False
    link: str | None = None  # outbound by public link (http/https only)
    alt: str = ""  # images and stickers: the caption, or "Image from <sender>"


@dataclass(frozen=True)
class LocationView:
    latitude: float | None
    longitude: float | None
    name: str
    address: str
    map_url: str | None


@dataclass(frozen=True)
class ContactCard:
    name: str
    organization: str
    phones: tuple[tuple[str, str], ...]  # (shown, tel: href or "")
    emails: tuple[tuple[str, str], ...]  # (shown, mailto: href or "")


@dataclass(frozen=True)
class Option:
    title: str
    detail: str = ""  # an id, a description, a URL


@dataclass(frozen=True)
class InteractiveView:
    """Inbound: what the citizen chose (``chosen``) or submitted (``fields``). Outbound:
    what the agency offered (header, body, footer, options)."""

    kind: str
    header: str = ""
    body: SafeString | str = ""
    footer: str = ""
    options: tuple[Option, ...] = ()
    options_label: str = ""
    chosen: Option | None = None
    fields: tuple[Option, ...] = ()


@dataclass(frozen=True)
class TemplateView:
    name: str
    language: str
    header: SafeString | str
    header_media: str  # "image", "video", "document", "location" or ""
    body: SafeString | str
    footer: str
    buttons: tuple[Option, ...]
    found: bool  # False: the template row is gone, only its name and values are shown
    parameters: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReactionView:
    emoji: str
    who: str


@dataclass(frozen=True)
class QuotedView:
    found: bool
    anchor: str  # "#message-<pk>" when the quoted message is in this thread
    sender: str
    summary: str


@dataclass(frozen=True)
class VersionView:
    text: SafeString | str
    at: datetime | None
    replaced_at: datetime | None


@dataclass(frozen=True)
class StatusStep:
    label: str
    at: datetime


@dataclass(frozen=True)
class StatusView:
    state: str  # the Message.Status value
    label: str  # "Delivered", "Failed — <reason>"
    reason: str
    steps: tuple[StatusStep, ...]

    @property
    def failed(self) -> bool:
        return self.state == Message.Status.FAILED


@dataclass(frozen=True)
class ReferralView:
    headline: str
    body: str
    source_url: str | None


@dataclass(frozen=True)
class OrderItem:
    product: str
    quantity: str
    price: str


@dataclass(frozen=True)
class MessageView:
    pk: int
    direction: str  # "in" or "out"
    kind: str
    template_name: str
    sender: str
    sender_role: str  # Citizen, Staff, Campaign, Automation, API, System, WhatsApp
    at: datetime
    day: date
    timezone: str
    text: SafeString | str = ""
    caption: SafeString | str = ""
    media: MediaView | None = None
    location: LocationView | None = None
    contacts: tuple[ContactCard, ...] = ()
    interactive: InteractiveView | None = None
    template: TemplateView | None = None
    order_items: tuple[OrderItem, ...] = ()
    notice: str = ""
    unsupported_type: str = ""
    error: str = ""  # inbound: what WhatsApp reported it could not deliver
    reactions: tuple[ReactionView, ...] = ()
    quoted: QuotedView | None = None
    forwarded: str = ""
    referral: ReferralView | None = None
    edited_at: datetime | None = None
    versions: tuple[VersionView, ...] = ()
    revoked_at: datetime | None = None
    status: StatusView | None = None
    # DLP (records.dlp.masking): what was masked in this view, in words, and the roles the
    # agency lets reveal it; ``dlp_revealed`` when shown unmasked (audited).
    dlp_masked: tuple[str, ...] = ()
    conversation_pk: int | None = None
    dlp_reveal_roles: tuple[str, ...] = ()
    dlp_revealed: bool = False

    @property
    def inbound(self) -> bool:
        return self.direction == Message.Direction.INBOUND

    @property
    def edited(self) -> bool:
        return self.edited_at is not None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


# --- the thread -------------------------------------------------------------------------------


# The masking of the thread being built (records.dlp): set by thread_items, read where text
# is shown (``_masked``), so the helpers below need no extra argument.
_masker: ContextVar[Masker | None] = ContextVar("inbox_dlp_masker", default=None)


def _masked(text: str) -> str:
    masker = _masker.get()
    return masker.text(text) if masker is not None and text else text


def thread_items(
    messages: Sequence[Message], *, tz: str | None = None, reveal: bool = False
) -> list[MessageView]:
    """The displayable messages of ``messages`` (in their order), as views. ``tz`` is the
    agency's time zone (read from the agency when not given). Run in the agency's scope.

    Sensitive data is masked as the agency's DLP policy says (one query for the policy);
    ``reveal``: not masked — only for a viewer the policy allows, once audited
    (``records.dlp.services.reveal``)."""
    shown = [m for m in messages if m.type not in _NOTICE_TYPES]
    if not shown:
        return []
    masker = None if reveal else Masker.for_agency(shown[0].agency_id)
    token = _masker.set(masker)
    try:
        return _thread_views(shown, messages, tz, reveal)
    finally:
        _masker.reset(token)


def _thread_views(
    shown: list[Message], messages: Sequence[Message], tz: str | None, reveal: bool
) -> list[MessageView]:
    zone = _zone(tz if tz is not None else _agency_timezone(shown[0].agency_id))
    quoted = _quoted_messages(shown, messages)
    reactions = _reactions(shown)
    everyone = [*shown, *quoted.values(), *(r for rs in reactions.values() for r in rs)]
    prefetch_related_objects(_unique(everyone), "contact", "sender_user")
    prefetch_related_objects(shown, "media", "template", "sender_credential")
    thread_pks = {m.wamid: m.pk for m in shown if m.wamid}
    views = []
    for m in shown:
        view = _view(m, zone, quoted=quoted, reactions=reactions, thread_pks=thread_pks)
        views.append(_with_conversation(_with_dlp(view, reveal), m))
    return views


def _with_dlp(view: MessageView, reveal: bool) -> MessageView:
    """The view with what its masking hid (the masker collected it while it was built)."""
    masker = _masker.get()
    if reveal:
        return replace(view, dlp_revealed=True)
    if masker is None:
        return view
    hidden = masker.hidden()
    masker.begin()
    if not hidden:
        return view
    return replace(view, dlp_masked=hidden, dlp_reveal_roles=masker.reveal_roles)


def _with_conversation(view: MessageView, message: Message) -> MessageView:
    return replace(view, conversation_pk=message.conversation_id)


def _agency_timezone(agency_id: int) -> str:
    found = Agency.objects.filter(pk=agency_id).values_list("timezone", flat=True).first()
    return found or "UTC"


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _unique(rows: Iterable[Message]) -> list[Message]:
    seen: dict[int, Message] = {}
    for row in rows:
        seen.setdefault(id(row), row)
    return list(seen.values())


def _quoted_wamid(message: Message) -> str:
    if message.reply_to_wamid:
        return message.reply_to_wamid
    context = _dict(message.context)
    return _text(context.get("id"), 200)


def _quoted_messages(shown: list[Message], given: Sequence[Message]) -> dict[str, Message]:
    """The messages replies quote, by wamid: from the thread itself, else one query."""
    wanted = {w for w in (_quoted_wamid(m) for m in shown) if w}
    if not wanted:
        return {}
    found = {m.wamid: m for m in given if m.wamid in wanted}
    missing = wanted - found.keys()
    if missing:
        # A reply quotes a message of its own chat: never another conversation's.
        rows = Message.objects.filter(
            phone_number_id__in={m.phone_number_id for m in shown},
            conversation_id__in={m.conversation_id for m in shown},
            wamid__in=missing,
        )
        found.update({row.wamid: row for row in rows if row.wamid})
    return found


def _reactions(shown: list[Message]) -> dict[str, list[Message]]:
    """Reaction rows on the shown messages, by the wamid they react to, oldest first."""
    wamids = [m.wamid for m in shown if m.wamid]
    if not wamids:
        return {}
    rows = Message.objects.filter(
        conversation_id__in={m.conversation_id for m in shown},
        type="reaction",
        content__reaction__message_id__in=wamids,
    ).order_by("created_at", "pk")
    by_target: dict[str, list[Message]] = {}
    for row in rows:
        target = _text(_dict(_dict(row.content).get("reaction")).get("message_id"), 200)
        by_target.setdefault(target, []).append(row)
    return by_target


def _view(
    message: Message,
    zone: zoneinfo.ZoneInfo,
    *,
    quoted: dict[str, Message],
    reactions: dict[str, list[Message]],
    thread_pks: dict[str, int],
) -> MessageView:
    at = _moment(message).astimezone(zone)
    content = _dict(current_content(message))  # the latest edit; .content is the original
    kind = message.type or _text(content.get("type"), 32)
    sender, role = ("WhatsApp", "System") if kind in _WHATSAPP_NOTICES else _sender(message)
    known = kind in _KIND_TEMPLATES
    parts = _content_parts(message, kind, content, sender) if known else {}
    quoted_wamid = _quoted_wamid(message)
    return MessageView(
        pk=message.pk,
        direction=message.direction,
        kind=kind if known else "unsupported",
        template_name=f"inbox/messages/{_KIND_TEMPLATES.get(kind, 'unsupported')}.html",
        sender=sender,
        sender_role=role,
        at=at,
        day=at.date(),
        timezone=str(zone),
        unsupported_type=_unsupported_type(kind, content) if not known else "",
        error=message.error_reason if message.direction == Message.Direction.INBOUND else "",
        reactions=_folded_reactions(reactions.get(message.wamid or "", [])),
        quoted=_quoted(quoted_wamid, quoted, thread_pks) if quoted_wamid else None,
        forwarded=_forwarded(message),
        referral=_referral(message.referral),
        edited_at=message.edited_at,
        versions=_versions(earlier_versions(message)),
        revoked_at=message.revoked_at,
        status=_status(message) if message.direction == Message.Direction.OUTBOUND else None,
        **parts,
    )


def _moment(message: Message) -> datetime:
    if message.direction == Message.Direction.INBOUND and message.received_at:
        return message.received_at
    return message.created_at


# --- who --------------------------------------------------------------------------------------


def contact_name(contact: Contact | None) -> str:
    if contact is None:
        return "Citizen"
    return contact.profile_name or contact.phone_e164 or contact.wa_id or "Citizen"


def _sender(message: Message) -> tuple[str, str]:
    kind = message.sender_type
    types = Message.SenderType
    if kind == types.CONTACT or (
        message.direction == Message.Direction.INBOUND and kind != types.SYSTEM
    ):
        return contact_name(message.contact), "Citizen"
    if kind == types.USER:
        user = message.sender_user
        if user is None:
            return "A former staff member", "Staff"
        return (user.get_full_name() or user.email or user.username), "Staff"
    if kind == types.CAMPAIGN:
        return (f"Campaign #{message.campaign_id}" if message.campaign_id else "Campaign"), (
            "Campaign"
        )
    if kind == types.AUTOMATION:
        return "Automation", "Automation"
    if kind == types.API:
        credential = message.sender_credential
        return (f"API: {credential.name}" if credential else "API"), "API"
    if message.direction == Message.Direction.INBOUND:
        return "WhatsApp", "System"
    return "Automatic reply", "System"


# --- content ----------------------------------------------------------------------------------


def _content_parts(
    message: Message, kind: str, content: dict[str, Any], sender: str
) -> dict[str, Any]:
    payload = content.get(kind)
    if kind == "text":
        return {"text": safe_text(_masked(_text(_dict(payload).get("body"))))}
    if kind in MEDIA_KINDS:
        body = _dict(payload)
        return {
            "caption": safe_text(_masked(_text(body.get("caption")))),
            "media": _media(message, kind, body, sender),
        }
    if kind == "location":
        return {"location": _location(_dict(payload))}
    if kind == "contacts":
        return {"contacts": _contact_cards(payload)}
    if kind == "interactive":
        return {"interactive": _interactive(message, _dict(payload))}
    if kind == "button":
        body = _dict(payload)
        title = _text(body.get("text")) or _text(body.get("payload"))
        chosen = Option(title, _detail(body.get("payload"), title))
        return {"interactive": InteractiveView("button", chosen=chosen)}
    if kind == "template":
        return {"template": _template(message.template, _dict(payload))}
    if kind == "order":
        return _order(_dict(payload))
    return {"notice": _notice(kind, content)}


_LINK_REL = ' rel="nofollow"'


def safe_text(value: str) -> SafeString:
    """Escaped text with http(s) and mailto links made clickable, lines kept. Nothing of
    the input survives as markup: urlize escapes every word it does not turn into a link,
    and it links only http(s)://, www. and bare domains (as http) and email addresses."""
    if not value:
        return mark_safe("")
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    html = urlize(value, nofollow=True, autoescape=True)
    html = html.replace(_LINK_REL, ' rel="nofollow noopener noreferrer" class="usa-link"')
    return mark_safe(html.replace("\n", "<br>"))  # noqa: S308 - escaped by urlize above


def _media(message: Message, kind: str, body: dict[str, Any], sender: str) -> MediaView:
    media: MediaObject | None = message.media
    voice = kind == "audio" and body.get("voice") is True
    caption = " ".join(_text(body.get("caption"), 300).split())
    label = "Sticker" if kind == "sticker" else "Image"
    alt = caption or f"{label} from {sender}"
    filename = _text(body.get("filename"), 255)
    mime = _text(body.get("mime_type"), 128)
    if media is None:
        link = _http_url(body.get("link"))
        if message.direction == Message.Direction.OUTBOUND:
            note = "Sent from a file uploaded to WhatsApp; Civic Relay keeps no copy."
        else:
            note = "The file was not received."
        return MediaView(
            kind, mime, filename, "", None, None, "not_kept", note, voice=voice, link=link, alt=alt
        )
    mime = media.mime_type or mime
    filename = media.filename or filename
    size = filesizeformat(media.size_bytes) if media.size_bytes else ""
    if media.status == MediaObject.Status.STORED and media.storage_key:
        url = reverse("inbox:media", args=[media.pk])
        return MediaView(
            kind, mime, filename, size, url, f"{url}?download=1", "stored", "", voice=voice, alt=alt
        )
    notes: dict[str, str] = {
        MediaObject.Status.PENDING: "Downloading from WhatsApp…",
        MediaObject.Status.REJECTED: "Not kept: " + (media.error or "type or size not allowed."),
        MediaObject.Status.FAILED: "Could not be downloaded: "
        + (media.error or "WhatsApp did not provide the file."),
    }
    note = notes.get(media.status, "The file is not available.")
    return MediaView(
        kind, mime, filename, size, None, None, str(media.status), note, voice=voice, alt=alt
    )


def _location(body: dict[str, Any]) -> LocationView:
    lat = _coordinate(body.get("latitude"), 90)
    lon = _coordinate(body.get("longitude"), 180)
    map_url = None
    if lat is not None and lon is not None:
        query = urlencode({"mlat": f"{lat:.6f}", "mlon": f"{lon:.6f}"})
        map_url = f"https://www.openstreetmap.org/?{query}#map=17/{lat:.6f}/{lon:.6f}"
    return LocationView(
        lat, lon, _text(body.get("name"), 1000), _text(body.get("address"), 1000), map_url
    )


def _coordinate(value: Any, bound: float) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, int | float) or not math.isfinite(value) or abs(value) > bound:
        return None
    return float(value)


def _contact_cards(payload: Any) -> tuple[ContactCard, ...]:
    cards = []
    for item in _list(payload)[:_MAX_ITEMS]:
        entry = _dict(item)
        name = _dict(entry.get("name"))
        shown = _text(name.get("formatted_name")) or " ".join(
            _text(name.get(part)) for part in ("first_name", "last_name") if name.get(part)
        )
        phones = []
        for phone in _list(entry.get("phones"))[:_MAX_ITEMS]:
            number = _text(_dict(phone).get("phone"), 64)
            if number:
                digits = re.sub(r"[^\d+]", "", number)
                href = f"tel:{digits}" if re.fullmatch(r"\+?\d{3,20}", digits) else ""
                phones.append((number, href))
        emails = []
        for email in _list(entry.get("emails"))[:_MAX_ITEMS]:
            address = _text(_dict(email).get("email"), 254)
            if address:
                valid = re.fullmatch(
                    r"[^@\s<>\"'/\\:]+@[^@\s<>\"'/\\:]+\.[^@\s<>\"'/\\:]+", address
                )
                emails.append((address, f"mailto:{quote(address, safe='@')}" if valid else ""))
        organization = _text(_dict(entry.get("org")).get("company"))
        cards.append(
            ContactCard(shown or "Unnamed contact", organization, tuple(phones), tuple(emails))
        )
    return tuple(cards)


def _interactive(message: Message, body: dict[str, Any]) -> InteractiveView:
    kind = _text(body.get("type"), 40)
    if message.direction == Message.Direction.INBOUND:
        reply = _dict(body.get(kind))
        if kind in ("button_reply", "list_reply"):
            title = _masked(_text(reply.get("title")) or _text(reply.get("id")))
            detail = _masked(_text(reply.get("description")) or _detail(reply.get("id"), title))
            return InteractiveView(kind, chosen=Option(title, detail))
        if kind == "nfm_reply":
            response = reply.get("response")
            fields = tuple(
                Option(_text(key, 100), _masked(_plain(value)))
                for key, value in list(_dict(response).items())[:_MAX_ITEMS]
                if key != "flow_token"
            )
            name = _text(reply.get("name")) or "form"
            return InteractiveView(
                kind, chosen=Option(name, _text(reply.get("body"))), fields=fields
            )
        return InteractiveView(kind or "unknown")
    return _offer(kind, body)


def _offer(kind: str, body: dict[str, Any]) -> InteractiveView:
    """An outbound interactive message: what the citizen saw and could tap."""
    header = _dict(body.get("header"))
    header_text = _text(header.get("text")) or (
        f"[{_text(header.get('type'), 20)}]" if header.get("type") else ""
    )
    action = _dict(body.get("action"))
    options: list[Option] = []
    label = "Buttons"
    if kind == "button":
        for button in _list(action.get("buttons"))[:_MAX_ITEMS]:
            reply = _dict(_dict(button).get("reply"))
            options.append(Option(_text(reply.get("title")), _text(reply.get("id"))))
    elif kind == "list":
        label = _text(action.get("button")) or "List"
        for section in _list(action.get("sections"))[:_MAX_ITEMS]:
            section_title = _text(_dict(section).get("title"))
            for row in _list(_dict(section).get("rows"))[:_MAX_ITEMS]:
                row = _dict(row)
                title = _text(row.get("title"))
                detail = _text(row.get("description"))
                options.append(
                    Option(f"{section_title}: {title}" if section_title else title, detail)
                )
    elif kind == "cta_url":
        params = _dict(action.get("parameters"))
        options.append(Option(_text(params.get("display_text")), _text(params.get("url"), 2000)))
    elif kind == "flow":
        options.append(Option(_text(_dict(action.get("parameters")).get("flow_cta")), "form"))
    elif kind == "location_request_message":
        options.append(Option("Send location"))
    elif kind == "request_contact_info":
        options.append(Option("Share contact info"))
    elif kind == "carousel":
        label = "Cards"
        for card in _list(action.get("cards"))[:_MAX_ITEMS]:
            card_body = _text(_dict(_dict(card).get("body")).get("text"))
            options.append(Option(card_body or "Card"))
    return InteractiveView(
        kind,
        header=header_text,
        body=safe_text(_text(_dict(body.get("body")).get("text"))),
        footer=_text(_dict(body.get("footer")).get("text")),
        options=tuple(o for o in options if o.title),
        options_label=label,
    )


def _order(body: dict[str, Any]) -> dict[str, Any]:
    items = []
    for item in _list(body.get("product_items"))[:_MAX_ITEMS]:
        item = _dict(item)
        price = _plain(item.get("item_price"))
        currency = _text(item.get("currency"), 8)
        items.append(
            OrderItem(
                _text(item.get("product_retailer_id"), 200) or "Product",
                _plain(item.get("quantity")),
                f"{price} {currency}".strip(),
            )
        )
    return {"text": safe_text(_text(body.get("text"))), "order_items": tuple(items)}


def _notice(kind: str, content: dict[str, Any]) -> str:
    if kind == "request_welcome":
        return "The citizen opened the chat."
    if kind == "errors":
        return "WhatsApp could not deliver a message from the citizen."
    system = _dict(content.get("system"))
    notices = {
        "user_changed_number": "The citizen changed their phone number.",
        "customer_changed_number": "The citizen changed their phone number.",
        "user_changed_user_id": "The citizen's WhatsApp user id changed.",
        "customer_identity_changed": "The citizen's security code changed.",
    }
    return (
        notices.get(_text(system.get("type"), 60))
        or _text(system.get("body"), 500)
        or ("A notice from WhatsApp.")
    )


def _unsupported_type(kind: str, content: dict[str, Any]) -> str:
    if kind == "unsupported":
        inner = _text(_dict(content.get("unsupported")).get("type"), 32)
        return inner or "unknown"
    return kind[:32] or "unknown"


# --- templates --------------------------------------------------------------------------------

_VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


def _template(row: MessageTemplate | None, sent: dict[str, Any]) -> TemplateView:
    """The template as the citizen saw it: its components with the values substituted."""
    name = _text(sent.get("name"), 512)
    language = _text(_dict(sent.get("language")).get("code"), 16)
    values = _template_values(sent.get("components"))
    header_media = values.get("header_media", "")
    if row is None or not isinstance(row.components, list):
        shown = tuple(
            _masked(v) for key in ("header", "body") for v in values.get(key, {}).values()
        )
        return TemplateView(
            name, language, "", header_media, "", "", (), found=False, parameters=shown
        )
    header = body = footer = ""
    buttons: list[Option] = []
    for component in row.components:
        component = _dict(component)
        kind = _text(component.get("type")).lower()
        text = _text(component.get("text"))
        if kind == "header":
            header = _substitute(text, values.get("header", {}))
            header_media = header_media or (
                _text(component.get("format")).lower() if component.get("format") else ""
            )
            if header_media == "text":
                header_media = ""
        elif kind == "body":
            body = _substitute(text, values.get("body", {}))
        elif kind == "footer":
            footer = text
        elif kind == "buttons":
            for index, button in enumerate(_list(component.get("buttons"))[:_MAX_ITEMS]):
                buttons.append(_template_button(_dict(button), values.get(f"button:{index}", {})))
    return TemplateView(
        row.name,
        row.language,
        safe_text(_masked(header)),
        header_media,
        safe_text(_masked(body)),
        footer,
        tuple(buttons),
        found=True,
    )


def _template_values(components: Any) -> dict[str, Any]:
    """The sent parameters: ``{"header": {"1": "…"}, "body": {"name": "…"}, "button:0": …}``
    (keyed by position from 1, and also by parameter_name when named)."""
    values: dict[str, Any] = {}
    for component in _list(components):
        component = _dict(component)
        kind = _text(component.get("type")).lower()
        if kind == "button":
            index = _text(str(component.get("index", "")), 4)
            kind = f"button:{index}"
        elif kind not in ("header", "body"):
            continue
        filled: dict[str, str] = {}
        for position, param in enumerate(_list(component.get("parameters"))[:_MAX_ITEMS], 1):
            param = _dict(param)
            ptype = _text(param.get("type"), 20)
            if kind == "header" and ptype in ("image", "video", "document", "location"):
                values["header_media"] = ptype
                continue
            value = _param_text(ptype, param)
            filled[str(position)] = value
            pname = _text(param.get("parameter_name"), 100)
            if pname:
                filled[pname] = value
        values[kind] = filled
    return values


def _param_text(ptype: str, param: dict[str, Any]) -> str:
    if ptype in ("currency", "date_time"):
        return _text(_dict(param.get(ptype)).get("fallback_value"))
    if ptype in ("payload", "coupon_code"):
        return _text(param.get(ptype))
    return _text(param.get("text"))


def _substitute(text: str, values: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _template_button(button: dict[str, Any], values: dict[str, str]) -> Option:
    kind = _text(button.get("type")).upper()
    title = _text(button.get("text"))
    if kind == "URL":
        return Option(title, _substitute(_text(button.get("url"), 2000), values))
    if kind == "PHONE_NUMBER":
        return Option(title, _text(button.get("phone_number"), 40))
    if kind == "COPY_CODE":
        return Option(title or "Copy code", values.get("1", ""))
    return Option(title)


# --- around the content -----------------------------------------------------------------------


def _folded_reactions(rows: list[Message]) -> tuple[ReactionView, ...]:
    """The latest reaction of each reactor (the citizen, the agency); an empty emoji is a
    removed reaction."""
    latest: dict[tuple[str, int | None], Message] = {}
    for row in sorted(rows, key=lambda r: (_moment(r), r.pk)):
        key = (
            row.direction,
            row.contact_id if row.direction == Message.Direction.INBOUND else None,
        )
        latest[key] = row
    views = []
    for row in latest.values():
        emoji = _text(_dict(_dict(row.content).get("reaction")).get("emoji"), 16)
        if emoji:
            views.append(ReactionView(emoji, _sender(row)[0]))
    return tuple(views)


def _quoted(wamid: str, quoted: dict[str, Message], thread_pks: dict[str, int]) -> QuotedView:
    original = quoted.get(wamid)
    if original is None:
        return QuotedView(False, "", "", "An earlier message that is not in this record.")
    pk = thread_pks.get(wamid)
    anchor = f"#message-{pk}" if pk else ""
    return QuotedView(
        True, anchor, _sender(original)[0], _masked(summary(current_content(original)))
    )


def summary(content: Any) -> str:
    """One line saying what a stored message holds (quotes, notifications, previews)."""
    content = _dict(content)
    kind = _text(content.get("type"), 32)
    payload = _dict(content.get(kind))
    labels = {
        "image": "Photo",
        "video": "Video",
        "audio": "Audio",
        "document": "Document",
        "sticker": "Sticker",
        "location": "Location",
        "contacts": "Contact card",
        "order": "Order",
        "template": "Template",
    }
    if kind == "text":
        text = _text(payload.get("body"))
    elif kind in MEDIA_KINDS:
        text = " ".join(
            filter(
                None, [labels[kind], _text(payload.get("filename")), _text(payload.get("caption"))]
            )
        )
    elif kind == "location":
        text = " ".join(filter(None, ["Location", _text(payload.get("name"))]))
    elif kind == "template":
        text = f"Template {_text(payload.get('name'), 100)}"
    elif kind == "interactive":
        reply = _dict(payload.get(_text(payload.get("type"), 40)))
        text = _text(reply.get("title")) or _text(_dict(payload.get("body")).get("text"))
    elif kind == "button":
        text = _text(payload.get("text"))
    else:
        text = labels.get(kind, "")
    text = " ".join(text.split()) or labels.get(kind, "Message")
    return text if len(text) <= _MAX_SUMMARY else text[: _MAX_SUMMARY - 1] + "…"


def _forwarded(message: Message) -> str:
    context = _dict(message.context)
    if context.get("frequently_forwarded") is True:
        return "Forwarded many times"
    if context.get("forwarded") is True:
        return "Forwarded"
    return ""


def _referral(value: Any) -> ReferralView | None:
    referral = _dict(value)
    if not referral:
        return None
    return ReferralView(
        _text(referral.get("headline"), 300) or "an ad",
        _text(referral.get("body"), 500),
        _http_url(referral.get("source_url")),
    )


def _versions(history: Any) -> tuple[VersionView, ...]:
    versions = []
    for entry in _list(history):
        entry = _dict(entry)
        content = _dict(entry.get("content"))
        kind = _text(content.get("type"), 32)
        body = _text(_dict(content.get(kind)).get("body" if kind == "text" else "caption"))
        text = safe_text(_masked(body)) if body else _masked(summary(content))
        versions.append(VersionView(text, _iso(entry.get("at")), _iso(entry.get("replaced_at"))))
    return tuple(versions)


_STATUS_LABELS: dict[str, str] = {
    Message.Status.QUEUED: "Queued",
    Message.Status.SENDING: "Sending",
    Message.Status.ACCEPTED: "Accepted by WhatsApp",
    Message.Status.SENT: "Sent",
    Message.Status.DELIVERED: "Delivered",
    Message.Status.READ: "Read",
    Message.Status.FAILED: "Failed",
}
_STEP_FIELDS = (
    ("Queued", "created_at"),
    ("Sending", "sending_at"),
    ("Accepted by WhatsApp", "accepted_at"),
    ("Sent", "sent_at"),
    ("Delivered", "delivered_at"),
    ("Read", "read_at"),
    ("Failed", "failed_at"),
)


def _status(message: Message) -> StatusView:
    label = _STATUS_LABELS.get(message.status, message.get_status_display())
    reason = ""
    if message.status == Message.Status.FAILED:
        reason = failure_reason(message)
        label = f"Failed — {reason}"
    elif message.error_code is not None and message.error_reason:
        reason = message.error_reason  # delivered on another device after a failure
    steps = tuple(
        StatusStep(step, at)
        for step, field in _STEP_FIELDS
        if (at := getattr(message, field)) is not None
    )
    return StatusView(message.status, label, reason, steps)


def failure_reason(message: Message) -> str:
    """Why an outbound message failed, in words staff understand."""
    if message.error_reason:
        return message.error_reason
    if message.error_code is not None:
        return error_from_payload({"code": message.error_code}).reason
    return "WhatsApp did not say why."


# --- reading hostile JSON ---------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any, limit: int = 4096) -> str:
    """A string as stored, or "" for anything else (numbers included: ids are strings)."""
    return value[:limit] if isinstance(value, str) else ""


def _plain(value: Any) -> str:
    """A scalar shown as text (a flow answer, a quantity); structures are summarized."""
    if isinstance(value, str):
        return value[:500]
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return ", ".join(_plain(item) for item in value[:_MAX_ITEMS])[:500]
    return ""


def _detail(value: Any, title: str) -> str:
    detail = _text(value, 200)
    return "" if detail == title else detail


def _http_url(value: Any) -> str | None:
    url = _text(value, 2000).strip()
    if re.match(r"https?://[^\s<>\"']+$", url, re.IGNORECASE):
        return url
    return None


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


__all__ = [
    "MessageView",
    "contact_name",
    "failure_reason",
    "safe_text",
    "summary",
    "thread_items",
]
