"""Opt-out and opt-in keywords in a citizen's message (STOP, BAJA, START…).

A keyword is the *whole* message: "stop", " STOP ALL ", "Stop!" are keywords; "please stop
the noise" is not. Matching ignores case, surrounding punctuation and runs of whitespace.
A template quick-reply tap counts when its button text or payload is a keyword.

An opt-out records a ``Consent`` (opted out of everything, topic "", source keyword, the
message as evidence) and queues a confirmation through ``send_message``: free-form text is
allowed because the citizen has just opened the 24-hour window. START/UNSTOP/ALTA opt back
in only where the agency allows it (``Agency.keyword_opt_in_allowed``); otherwise nothing
changes and the reply says how to opt in. The reply is in Spanish for a Spanish keyword.

Topic keywords (``messaging.consent.models.ConsentTopic.keywords``, e.g. "ALERTS") opt a
citizen in to that topic; "STOP ALERTS" (or "BAJA ALERTS") opts them out of it alone. The
hosted opt-in page's wa.me link pre-fills the topic keyword. A topic opt-in after an opt-out
follows the same ``keyword_opt_in_allowed`` rule as START.

Every change is recorded through ``messaging.consent.services.record_consent`` (the one
writer: audit, event, and an opt-out withdraws the citizen's waiting business-initiated
messages in the same transaction).

Contract: the inbound handler asks ``match_content`` of each new text or quick reply, and
runs ``apply_keyword(message, agency=)`` inside its transaction once for each newly stored
message that is a keyword (a redelivered webhook never gets here)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from messaging import services
from messaging.consent import selectors as consent_selectors
from messaging.consent.services import record_consent
from messaging.models import Consent, Message
from messaging.policy import SendRefused
from messaging.whatsapp import builders
from records.audit import Actor
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

# "STOP ALERTS", "BAJA ALERTS": the opt-out words that take a topic keyword after them.
TOPIC_STOP_WORDS: dict[str, str] = {"STOP": "en", "UNSUBSCRIBE": "en", "BAJA": "es", "ALTO": "es"}
# A topic keyword is a short message: longer texts are never looked up.
TOPIC_KEYWORD_MAX = 40

_EDGE_PUNCTUATION = ".,;:!¡?¿\"'()[]"
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class KeywordMatch:
    action: Action
    keyword: str  # normalized
    language: str  # "en" or "es"
    text: str  # what the citizen sent
    topic: str = ""  # a topic keyword's topic slug ("" = everything)


def normalize(text: str) -> str:
    """``"  Stop   all! "`` → ``"STOP ALL"``."""
    return _SPACES.sub(" ", text).strip().strip(_EDGE_PUNCTUATION).strip().upper()


def match(
    texts: Iterable[str],
    extra_opt_out: Iterable[str] = (),
    topic_keywords: dict[str, str] | None = None,
) -> KeywordMatch | None:
    """The first of ``texts`` that is, as a whole, an opt-out or opt-in keyword.
    ``topic_keywords``: upper-case keyword → topic slug."""
    extra = {normalize(str(word)) for word in extra_opt_out if isinstance(word, str)}
    extra.discard("")
    topic_keywords = topic_keywords or {}
    for text in texts:
        word = normalize(text)
        if word in OPT_OUT_KEYWORDS:
            return KeywordMatch(Action.OPT_OUT, word, OPT_OUT_KEYWORDS[word], text)
        if word in extra:  # an agency's own word: confirmations are in English
            return KeywordMatch(Action.OPT_OUT, word, "en", text)
        if word in OPT_IN_KEYWORDS:
            return KeywordMatch(Action.OPT_IN, word, OPT_IN_KEYWORDS[word], text)
        if word in topic_keywords:
            return KeywordMatch(Action.OPT_IN, word, "en", text, topic_keywords[word])
        stop, _, rest = word.partition(" ")
        if stop in TOPIC_STOP_WORDS and rest in topic_keywords:
            language = TOPIC_STOP_WORDS[stop]
            return KeywordMatch(Action.OPT_OUT, word, language, text, topic_keywords[rest])
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


def match_content(
    kind: str,
    content: dict[str, Any] | None,
    agency: Agency,
    topic_keywords: Callable[[], dict[str, str]] | None = None,
) -> KeywordMatch | None:
    """The keyword a message of this type and content is, for this agency, if any.
    ``topic_keywords``: the agency's topic keywords, for a caller that looks at many
    messages and loads them once (``topic_keywords_of``); by default loaded here."""
    extra = agency.extra_opt_out_keywords
    texts = texts_of(kind, content)
    # Looked up only for a short message (most are not).
    short = any(0 < len(normalize(text)) <= TOPIC_KEYWORD_MAX for text in texts)
    topics = (topic_keywords or (lambda: topic_keywords_of(agency)))() if short else {}
    return match(texts, extra if isinstance(extra, list) else (), topics)


def topic_keywords_of(agency: Agency) -> dict[str, str]:
    """Upper-case topic keyword → its topic's slug."""
    return {word: t.slug for word, t in consent_selectors.keyword_topics(agency).items()}


def apply_keyword(message: Message, *, agency: Agency) -> KeywordMatch | None:
    """Record the consent change a keyword asks for and queue the confirmation."""
    found = match_content(message.type, message.content, agency)
    if found is None:
        return None
    if found.topic:
        reply = _apply_topic_keyword(message, agency, found)
    elif found.action == Action.OPT_OUT:
        _record(message, found, Consent.Status.OPTED_OUT)
        reply = _opted_out_reply(agency, found.language)
    elif agency.keyword_opt_in_allowed:
        _record(message, found, Consent.Status.OPTED_IN)
        reply = _opted_in_reply(agency, found.language)
    else:
        reply = _opt_in_elsewhere_reply(agency, found.language)
    _send_reply(message, agency, reply)
    return found


def _apply_topic_keyword(message: Message, agency: Agency, found: KeywordMatch) -> str:
    topic = consent_selectors.topic_by_slug(agency, found.topic)
    name = topic.name if topic is not None else found.topic
    if found.action == Action.OPT_OUT:
        _record(message, found, Consent.Status.OPTED_OUT)
        return _topic_opted_out_reply(agency, name, found)
    state = consent_selectors.state_of(message.contact, found.topic)
    if state == consent_selectors.State.OPTED_OUT and not agency.keyword_opt_in_allowed:
        return _opt_in_elsewhere_reply(agency, found.language)
    _record(message, found, Consent.Status.OPTED_IN)
    if consent_selectors.state_of(message.contact, "") == consent_selectors.State.OPTED_OUT:
        # The opt-out of everything still wins: say so rather than promise messages.
        return (
            f"You asked for {name} from {agency.name}, but you opted out of all our messages "
            "earlier. Reply START to receive messages again."
        )
    return (
        f"You will receive {name} from {agency.name} on WhatsApp. "
        f"Reply STOP {found.keyword} to stop them."
    )


def _topic_opted_out_reply(agency: Agency, name: str, found: KeywordMatch) -> str:
    if found.language == "es":
        return f"Ya no recibirá {name} de {agency.name} por WhatsApp."
    return f"You will no longer receive {name} from {agency.name} on WhatsApp."


def _record(message: Message, found: KeywordMatch, status: str) -> Consent:
    return record_consent(
        actor=Actor.system(COMPONENT),
        contact=message.contact,
        status=status,
        source=Consent.Source.KEYWORD,
        topic=found.topic,
        evidence={
            "message_id": message.pk,
            "wamid": message.wamid,
            "text": found.text,
            "keyword": found.keyword,
        },
        # The citizen's own time: a late-delivered STOP does not outrank a newer opt-in.
        recorded_at=message.received_at,
        subject={"message": message.pk},
        # A citizen's STOP is recorded even while the agency is suspended.
        require_active_agency=False,
    )


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
