"""Opt-out and opt-in keywords in a citizen's message (STOP, BAJA, START…).

A keyword is the *whole* message: "stop", " STOP ALL ", "Stop!" are keywords; "please stop
the noise" is not. Matching ignores case, surrounding punctuation and runs of whitespace.
A template quick-reply tap counts when its button text or payload is a keyword.

An opt-out records a ``Consent`` (opted out of everything, topic "", source keyword, the
message as evidence) and queues a confirmation through ``send_message``: free-form text is
allowed because the citizen has just opened the 24-hour window. START/UNSTOP/ALTA opt back
in only where the agency allows it (``Agency.keyword_opt_in_allowed``); otherwise nothing
changes and the reply says how to opt in. The reply is in Spanish for a Spanish keyword.

Contract: the inbound handler asks ``match_content`` of each new text or quick reply, and
runs ``apply_keyword(message, agency=)`` inside its transaction once for each newly stored
message that is a keyword (a redelivered webhook never gets here)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.utils import timezone

from bsp import events
from bsp.events import types
from messaging import services
from messaging.models import Consent, Message
from messaging.policy import SendRefused
from messaging.whatsapp import builders
from records.audit import Actor, record_event
from tenants.models import Agency

logger = logging.getLogger(__name__)

COMPONENT = "keywords"
MESSAGE_TYPES = frozenset({"text", "button"})  # what can carry a keyword


class Action(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


# keyword → language of the confirmation.
OPT_OUT_KEYWORDS: dict[str, str] = {
    "STOP": "en",
    "STOP ALL": "en",
    "UNSUBSCRIBE": "en",
    "CANCEL": "en",
    "END": "en",
    "QUIT": "en",
    "BAJA": "es",
    "ALTO": "es",
    "PARAR": "es",
    "CANCELAR": "es",
}
# ALTA ("darse de alta") is the usual Spanish counterpart of BAJA in SMS short codes.
OPT_IN_KEYWORDS: dict[str, str] = {"START": "en", "UNSTOP": "en", "ALTA": "es"}

_EDGE_PUNCTUATION = ".,;:!¡?¿\"'()[]"
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class KeywordMatch:
    action: Action
    keyword: str  # normalized
    language: str  # "en" or "es"
    text: str  # what the citizen sent


def normalize(text: str) -> str:
    """``"  Stop   all! "`` → ``"STOP ALL"``."""
    return _SPACES.sub(" ", text).strip().strip(_EDGE_PUNCTUATION).strip().upper()


def match(texts: Iterable[str], extra_opt_out: Iterable[str] = ()) -> KeywordMatch | None:
    """The first of ``texts`` that is, as a whole, an opt-out or opt-in keyword."""
    extra = {normalize(str(word)) for word in extra_opt_out if isinstance(word, str)}
    extra.discard("")
    for text in texts:
        word = normalize(text)
        if word in OPT_OUT_KEYWORDS:
            return KeywordMatch(Action.OPT_OUT, word, OPT_OUT_KEYWORDS[word], text)
        if word in extra:  # an agency's own word: confirmations are in English
            return KeywordMatch(Action.OPT_OUT, word, "en", text)
        if word in OPT_IN_KEYWORDS:
            return KeywordMatch(Action.OPT_IN, word, OPT_IN_KEYWORDS[word], text)
    return None


def candidate_texts(message: Message) -> list[str]:
    """What the citizen "said": a text body, or a template quick reply's text and payload."""
    return texts_of(message.type, message.content)


def texts_of(kind: str, content: dict[str, Any] | None) -> list[str]:
    """``candidate_texts`` of a message's type and stored content (before it is a row)."""
    content = content or {}
    if kind == "text":
        body = (content.get("text") or {}).get("body")
        return [body] if isinstance(body, str) else []
    if kind == "button":
        button = content.get("button") or {}
        return [button[key] for key in ("text", "payload") if isinstance(button.get(key), str)]
    return []


def match_content(kind: str, content: dict[str, Any] | None, agency: Agency) -> KeywordMatch | None:
    """The keyword a message of this type and content is, for this agency, if any."""
    extra = agency.extra_opt_out_keywords
    return match(texts_of(kind, content), extra if isinstance(extra, list) else ())


def apply_keyword(message: Message, *, agency: Agency) -> KeywordMatch | None:
    """Record the consent change a keyword asks for and queue the confirmation."""
    found = match_content(message.type, message.content, agency)
    if found is None:
        return None
    if found.action == Action.OPT_OUT:
        _record(message, found, Consent.Status.OPTED_OUT)
        reply = _opted_out_reply(agency, found.language)
    elif agency.keyword_opt_in_allowed:
        _record(message, found, Consent.Status.OPTED_IN)
        reply = _opted_in_reply(agency, found.language)
    else:
        reply = _opt_in_elsewhere_reply(agency, found.language)
    _send_reply(message, agency, reply)
    return found


def _record(message: Message, found: KeywordMatch, status: str) -> Consent:
    consent = Consent.objects.create(
        agency_id=message.agency_id,
        contact_id=message.contact_id,
        topic="",
        status=status,
        source=Consent.Source.KEYWORD,
        evidence={
            "message_id": message.pk,
            "wamid": message.wamid,
            "text": found.text,
            "keyword": found.keyword,
        },
        # The citizen's own time: a late-delivered STOP does not outrank a newer opt-in.
        recorded_at=min(message.received_at or timezone.now(), timezone.now()),
    )
    record_event(
        agency_id=message.agency_id,
        actor=Actor.system(COMPONENT),
        action=f"consent.{status}",
        target=consent,
        changes={"contact": message.contact_id, "topic": "", "source": "keyword"},
    )
    events.publish(
        agency_id=message.agency_id,
        type=types.CONSENT_CHANGED,
        subject={"consent": consent.pk, "contact": message.contact_id, "message": message.pk},
        payload={
            "status": status,
            "topic": "",
            "source": Consent.Source.KEYWORD.value,
            "recorded_at": consent.recorded_at,
        },
    )
    return consent


def _send_reply(message: Message, agency: Agency, body: str) -> None:
    wa_id = message.contact.wa_id
    if not wa_id:
        # A username-only citizen (business-scoped id, no phone): send_message needs a phone.
        logger.info("keyword reply skipped: contact %s has no phone number", message.contact_id)
        return
    try:
        services.send_message(
            agency=agency,
            sender=services.Sender.system(COMPONENT),
            to=wa_id,
            message=builders.Text(body),
            phone_number=message.phone_number,  # the number the citizen wrote to
            idempotency_key=f"keyword-reply:{message.pk}",
        )
    except SendRefused as refusal:
        # E.g. a STOP delivered more than 24 h late: the consent stands, the reply cannot go.
        logger.info("keyword reply refused (%s) for message %s", refusal.rule, message.pk)


def _opted_out_reply(agency: Agency, language: str) -> str:
    if language == "es":
        again = " Responda ALTA para volver a recibirlos." if agency.keyword_opt_in_allowed else ""
        return f"Ya no recibirá mensajes de {agency.name} por WhatsApp.{again}"
    again = " Reply START to receive them again." if agency.keyword_opt_in_allowed else ""
    return f"You will no longer receive messages from {agency.name} on WhatsApp.{again}"


def _opted_in_reply(agency: Agency, language: str) -> str:
    if language == "es":
        return (
            f"Volverá a recibir mensajes de {agency.name} por WhatsApp. "
            "Responda BAJA para dejar de recibirlos."
        )
    return (
        f"You will receive messages from {agency.name} on WhatsApp again. Reply STOP to stop them."
    )


def _opt_in_elsewhere_reply(agency: Agency, language: str) -> str:
    reach = [part for part in (agency.contact_phone, agency.contact_email) if part]
    if language == "es":
        how = f" comuníquese con {' o '.join(reach)}" if reach else " comuníquese con la agencia"
        return (
            f"{agency.name} no puede volver a suscribirle por una palabra clave. "
            f"Para recibir mensajes de nuevo,{how}."
        )
    how = f" contact {' or '.join(reach)}" if reach else " contact the agency"
    return f"{agency.name} cannot subscribe you again by keyword. To receive messages again,{how}."
