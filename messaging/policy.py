"""Meta's sending rules, enforced server-side for every caller (inbox, API, campaigns).

``check_send`` either returns what the send is (business-initiated or a reply inside the
customer-service window) or raises ``SendRefused`` naming the rule it broke, in words an
agent understands. The rules (../shared/cloud-api.md §7):

- sender_unavailable: the agency is suspended or the number is not connected; or Meta has
  restricted the number's WABA from business-initiated messages or from replies
  (``account_update`` ACCOUNT_RESTRICTION, until the restriction expires);
- invalid_recipient: only individual WhatsApp users (no groups, no malformed numbers, not a
  contact known to be off WhatsApp);
- window_closed: free-form messages only within 24 h of the contact's last message;
- template_not_found / template_not_approved / template_params: templates must exist,
  be APPROVED in that language on the number's WABA, and be given exactly their variables;
- no_opt_in / opted_out: business-initiated messages only to opted-in contacts; and no
  marketing template to a citizen who turned marketing messages off in WhatsApp itself
  (``check_marketing_preference``; Meta would fail it with 131050, window or not);
- marketing_unavailable: no marketing template to a US number (Meta stopped delivering them
  on April 1, 2025: 131049);
- tier_limit: business-initiated messages reach at most the portfolio's messaging limit of
  unique contacts in a moving 24 h;
- trial_recipient: an agency in trial mode (not yet approved to go live by a platform
  operator) sends only to its own staff's numbers (``trial_recipients``);
- sensitive_data: the agency's DLP policy (``records.dlp``) refuses a message carrying a
  validated SSN, card or routing number, or a match of a blocking rule, unless the
  sender's role may override it and gives a justification (``check_sensitive_data``).
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, NoReturn

import phonenumbers
from django.utils import timezone

from messaging import reach, wa_ids
from messaging.models import Consent, Contact, Conversation
from messaging.whatsapp import builders
from messaging.whatsapp.templates import normalize_language
from records.dlp import outbound as dlp_outbound
from templates_mgr.models import MessageTemplate
from tenants.models import Agency, Membership, PhoneNumber, WhatsAppBusinessAccount
from tenants.services import AgencySuspended, ensure_agency_active

WINDOW = timedelta(hours=24)
# `user_preferences` webhooks (the citizen tapped "Stop promotions" / "Resume" inside
# WhatsApp) are recorded as consent on this topic by messaging.webhooks.inbound.
WHATSAPP_MARKETING_TOPIC = "whatsapp:marketing"
TIER_LIMITS = reach.TIER_LIMITS


class Rule(StrEnum):
    SENDER_UNAVAILABLE = "sender_unavailable"
    INVALID_RECIPIENT = "invalid_recipient"
    INVALID_CONTENT = "invalid_content"
    WINDOW_CLOSED = "window_closed"
    TEMPLATE_NOT_FOUND = "template_not_found"
    TEMPLATE_NOT_APPROVED = "template_not_approved"
    TEMPLATE_PARAMS = "template_params"
    NO_OPT_IN = "no_opt_in"
    OPTED_OUT = "opted_out"
    MARKETING_UNAVAILABLE = "marketing_unavailable"
    TIER_LIMIT = "tier_limit"
    SENSITIVE_DATA = "sensitive_data"
    TRIAL_RECIPIENT = "trial_recipient"


class SendRefused(Exception):
    """A send that breaks a rule. ``message`` is for staff; ``details`` for integrators."""

    def __init__(self, rule: Rule, message: str, **details: Any) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.details = details


@dataclass(frozen=True)
class SendDecision:
    business_initiated: bool
    template: MessageTemplate | None = None
    notes: dict[str, Any] = field(default_factory=dict)


def _local(moment: datetime, agency: Agency) -> str:
    zone = zoneinfo.ZoneInfo(agency.timezone)
    return timezone.localtime(moment, timezone=zone).strftime("%b %-d, %Y %H:%M %Z")


def check_sender(agency: Agency, number: PhoneNumber) -> None:
    try:
        ensure_agency_active(agency)  # the guard every state-changing service shares
    except AgencySuspended as exc:
        raise SendRefused(Rule.SENDER_UNAVAILABLE, str(exc), agency_status=agency.status) from exc
    if not number.can_send:
        raise SendRefused(
            Rule.SENDER_UNAVAILABLE,
            f"The number {number.display_phone_number} cannot send messages right now "
            f"({number.get_status_display().lower()}). An admin must reconnect it.",
            phone_number_status=number.status,
        )


# WhatsApp group ids: "120363…@g.us" (JID) or the older "<creator>-<timestamp>" form.
_GROUP_ID = re.compile(r"@|^\d{7,15}-\d{9,10}$")


_FORMATTING = re.compile(r"[\s()+\-.]")


def normalize_recipient(to: str) -> str:
    """The WhatsApp id for ``to``, or SendRefused.

    A dialable number is reduced to its E.164 digits (``+1 (415) 555-0100`` → ``14155550100``);
    anything else is taken as a wa_id as WhatsApp reports it, valid by WhatsApp's rules
    (digits, a country calling code, a plausible length: ``messaging.wa_ids``), so a Mexican
    ``521…`` citizen, whom libphonenumber rejects, can be answered."""
    text = (to or "").strip()
    if _GROUP_ID.search(text):
        raise SendRefused(
            Rule.INVALID_RECIPIENT, "Messages can only go to one person, not to a group.", to=to
        )
    candidate = text if text.startswith("+") else f"+{text}"
    try:
        parsed = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is not None and phonenumbers.is_valid_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)[1:]
    digits = _FORMATTING.sub("", text)
    if wa_ids.is_wa_id(digits):
        return digits
    raise SendRefused(
        Rule.INVALID_RECIPIENT,
        f"“{to}” is not a valid phone number with its country code.",
        to=to,
    )


def _wa_id_or_none(phone: str) -> str | None:
    try:
        return normalize_recipient(phone) if phone.strip() else None
    except SendRefused:
        return None


def trial_recipients(agency: Agency) -> frozenset[str]:
    """The wa_ids an agency in trial mode may send to: its own staff's numbers (the agency's
    contact phone and its members' WhatsApp numbers)."""
    members = Membership.objects.filter(agency=agency).exclude(phone_e164="")
    phones = [agency.contact_phone or "", *members.values_list("phone_e164", flat=True)]
    return frozenset(w for w in (_wa_id_or_none(p or "") for p in phones) if w)


def check_trial_recipient(agency: Agency, wa_id: str) -> None:
    """A trial agency sends to its staff's numbers only, until an operator approves it."""
    if not agency.in_trial or wa_id in trial_recipients(agency):
        return
    raise SendRefused(
        Rule.TRIAL_RECIPIENT,
        f"{agency.name} is in trial mode: messages go only to the agency's own staff "
        "numbers until a platform operator approves it going live.",
        to=wa_id,
    )


def check_recipient(contact: Contact) -> None:
    if contact.unreachable_at is not None:
        raise SendRefused(
            Rule.INVALID_RECIPIENT,
            "This person could not be reached on WhatsApp (the number is not on WhatsApp). "
            "Contact them another way.",
            unreachable_since=contact.unreachable_at.isoformat(),
        )


# Meta's restriction types (cloud-api.md §5.7) that stop a kind of send, and how to say it.
RESTRICTED_BUSINESS_INITIATED = "RESTRICTED_BIZ_INITIATED_MESSAGING"
RESTRICTED_REPLIES = "RESTRICTED_CUSTOMER_INITIATED_MESSAGING"
_RESTRICTED_SENDS = {
    RESTRICTED_BUSINESS_INITIATED: "starting conversations (templates to people outside the "
    "24-hour window)",
    RESTRICTED_REPLIES: "replying to people who wrote in",
}


@dataclass(frozen=True)
class Restriction:
    type: str
    expires_at: datetime | None  # None: Meta gave no end


def _expiration(raw: Any) -> datetime | None:
    """Meta sends unix seconds; tolerate a numeric string or an ISO date."""
    if raw in (None, "", 0):
        return None
    try:
        return datetime.fromtimestamp(int(raw), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        pass
    try:
        moment = datetime.fromisoformat(str(raw))
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)


def restriction_in_force(
    restrictions: Any, restriction_type: str, now: datetime
) -> Restriction | None:
    """The WABA's restriction of that type, if it has not expired (as last reported by
    Meta's ``account_update``, kept in ``WhatsAppBusinessAccount.restrictions``)."""
    for item in restrictions or []:
        if not isinstance(item, dict) or item.get("restriction_type") != restriction_type:
            continue
        expires_at = _expiration(item.get("expiration"))
        if expires_at is None or expires_at > now:
            return Restriction(restriction_type, expires_at)
    return None


def _refuse_restricted(agency: Agency, restriction: Restriction) -> NoReturn:
    until = (
        f"until {_local(restriction.expires_at, agency)}"
        if restriction.expires_at
        else "until Meta lifts it"
    )
    raise SendRefused(
        Rule.SENDER_UNAVAILABLE,
        f"Meta has restricted this WhatsApp account from {_RESTRICTED_SENDS[restriction.type]} "
        f"({restriction.type}), {until}.",
        restriction=restriction.type,
        expires_at=restriction.expires_at.isoformat() if restriction.expires_at else None,
    )


def _waba_restrictions(**number_filter: Any) -> Any:
    """Read fresh: a restriction webhook may have landed since the number was loaded."""
    return (
        WhatsAppBusinessAccount.objects.filter(**number_filter)
        .values_list("restrictions", flat=True)
        .first()
    )


def check_restrictions(number: PhoneNumber, now: datetime, *, business_initiated: bool) -> None:
    """Refuse a send Meta's restriction on the number's WABA forbids."""
    kind = RESTRICTED_BUSINESS_INITIATED if business_initiated else RESTRICTED_REPLIES
    restriction = restriction_in_force(_waba_restrictions(pk=number.waba_id), kind, now)
    if restriction is not None:
        _refuse_restricted(number.agency, restriction)


def window_is_open(conversation: Conversation | None, now: datetime) -> bool:
    return bool(
        conversation and conversation.window_expires_at and conversation.window_expires_at > now
    )


def check_window(agency: Agency, conversation: Conversation | None, now: datetime) -> None:
    """Free-form messages need the 24-hour customer-service window to be open."""
    if window_is_open(conversation, now):
        return
    expired = conversation.window_expires_at if conversation else None
    when = f" It closed on {_local(expired, agency)}." if expired else ""
    raise SendRefused(
        Rule.WINDOW_CLOSED,
        "More than 24 hours have passed since this person last wrote, so only an approved "
        f"template can be sent.{when}",
        window_expired_at=expired.isoformat() if expired else None,
    )


def find_template(number: PhoneNumber, message: builders.Template) -> MessageTemplate:
    language = normalize_language(message.language)
    templates = MessageTemplate.objects.filter(waba_id=number.waba_id, name=message.name)
    template = next((t for t in templates if normalize_language(t.language) == language), None)
    if template is None:
        raise SendRefused(
            Rule.TEMPLATE_NOT_FOUND,
            f"There is no template “{message.name}” in {language} for this number's account.",
            template=message.name,
            language=language,
        )
    if template.status != MessageTemplate.Status.APPROVED:
        raise SendRefused(
            Rule.TEMPLATE_NOT_APPROVED,
            f"The template “{template.name}” ({language}) is {template.get_status_display()}; "
            "only approved templates can be sent.",
            template=template.name,
            status=template.status,
        )
    return template


# Parameters that fill a typed slot, named by their type as ``declared_parameters`` names
# the slot (a media or location header, a copy-code button's code).
_TYPED_PARAMETERS = frozenset({"image", "video", "document", "location", "coupon_code"})


def _given_parameters(message: builders.Template) -> dict[str, list[str]]:
    given: dict[str, list[str]] = {}
    for component in message.payload().get("components", []):
        kind = component["type"]
        if component.get("sub_type") in ("quick_reply", "flow"):
            continue  # optional: a quick-reply payload, a flow's token and data
        key = f"button:{int(component['index'])}" if kind == "button" else kind
        params = component.get("parameters", [])
        given[key] = [
            str(
                p.get("parameter_name")
                or (p["type"] if p.get("type") in _TYPED_PARAMETERS else i + 1)
            )
            for i, p in enumerate(params)
        ]
    return given


def _shape(names: list[str], named: bool) -> tuple[list[str], int]:
    """What must match: every name (named templates) or, for positional ones, the typed
    slots by type and the text values by count."""
    if named:
        return sorted(names), 0
    return sorted(n for n in names if not n.isdigit()), sum(n.isdigit() for n in names)


def check_template_parameters(template: MessageTemplate, message: builders.Template) -> None:
    """Exactly the declared variables, component by component (Meta answers 132000 else)."""
    declared = template.declared_parameters()
    given = _given_parameters(message)
    named = template.parameter_format == MessageTemplate.ParameterFormat.NAMED
    for key in sorted(set(declared) | set(given)):
        want, got = declared.get(key, []), given.get(key, [])
        same = _shape(want, named) == _shape(got, named)
        if not same:
            raise SendRefused(
                Rule.TEMPLATE_PARAMS,
                f"The template “{template.name}” needs {len(want)} value(s) for its "
                f"{key.replace(':', ' ')} ({', '.join(want) or 'none'}); {len(got)} were given.",
                component=key,
                expected=want,
                given=got,
            )


def latest_consent(contact: Contact, topic: str) -> Consent | None:
    return contact.consents.filter(topic=topic).order_by("-recorded_at", "-pk").first()


# The newest-consent rule, shared by the per-message check below and the campaigns' bulk
# check (messaging.campaigns.audience), which computes the newest record of each topic for a
# whole audience in one query and hands the statuses here.
CONSENT_ORDER = ("-recorded_at", "-pk")  # the newest record decides


def consent_rule(general: str | None, specific: str | None, topic: str) -> Rule | None:
    """Which rule the newest general ("") and topic consent statuses break, if any.

    Opt-out of everything wins; then the topic's own record; then the general opt-in."""
    if general == Consent.Status.OPTED_OUT:
        return Rule.OPTED_OUT
    if topic and specific == Consent.Status.OPTED_OUT:
        return Rule.OPTED_OUT
    decisive = (specific if topic else None) or general
    if decisive != Consent.Status.OPTED_IN:
        return Rule.NO_OPT_IN
    return None


def marketing_turned_off(template: MessageTemplate, whatsapp_marketing: str | None) -> bool:
    """A marketing template to a citizen whose newest ``WHATSAPP_MARKETING_TOPIC`` record is
    an opt-out (Meta would fail it with 131050, window or not)."""
    return (
        template.category == MessageTemplate.Category.MARKETING
        and whatsapp_marketing == Consent.Status.OPTED_OUT
    )


# Meta stopped delivering marketing templates to US numbers (+1 with a US area code) on
# April 1, 2025; they fail with 131049. Canada shares +1 but is not affected: the check is
# on the region libphonenumber gives the number.
US_MARKETING_PAUSED_SINCE = datetime(2025, 4, 1, tzinfo=UTC)


_US_REGIONS = frozenset({"US", "PR", "GU", "VI", "AS", "MP"})


@functools.cache
def _nanp_region(area: str) -> str | None:
    """The region of a +1 area code (all its numbers share it): cached, so a campaign's
    100,000 numbers cost a few hundred parses, not 100,000."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(f"+1{area}2345678", None))
    except phonenumbers.NumberParseException:
        return None


def is_us_number(wa_id: str) -> bool:
    """+1 and not Canada or the Caribbean: a US area code, or one we cannot place."""
    if not wa_id.startswith("1"):
        return False
    region = _nanp_region(wa_id[1:4])
    return region is None or region in _US_REGIONS


def us_marketing_blocked(template: MessageTemplate, wa_id: str) -> bool:
    return template.category == MessageTemplate.Category.MARKETING and is_us_number(wa_id)


def check_opt_in(contact: Contact, topic: str) -> None:
    """Opt-out of everything wins; then the topic's own record; then the general opt-in."""
    general = latest_consent(contact, "")
    specific = latest_consent(contact, topic) if topic else None
    rule = consent_rule(
        general.status if general else None, specific.status if specific else None, topic
    )
    if rule is None:
        return
    if (
        rule == Rule.OPTED_OUT
        and general is not None
        and general.status == Consent.Status.OPTED_OUT
    ):
        raise SendRefused(
            Rule.OPTED_OUT,
            "This person opted out of messages from the agency.",
            opted_out_at=general.recorded_at.isoformat(),
        )
    if rule == Rule.OPTED_OUT and specific is not None:
        raise SendRefused(
            Rule.OPTED_OUT,
            f"This person opted out of “{topic}” messages.",
            topic=topic,
            opted_out_at=specific.recorded_at.isoformat(),
        )
    raise SendRefused(
        Rule.NO_OPT_IN,
        "This person has not agreed to receive messages from the agency, so only a reply "
        "to their own message can be sent.",
        topic=topic or None,
    )


def check_marketing_preference(contact: Contact, template: MessageTemplate) -> None:
    """Marketing templates only to citizens who have not turned marketing off in WhatsApp.
    Utility and authentication templates are not affected (Meta delivers them)."""
    if template.category != MessageTemplate.Category.MARKETING:
        return
    latest = latest_consent(contact, WHATSAPP_MARKETING_TOPIC)
    if latest is not None and marketing_turned_off(template, latest.status):
        raise SendRefused(
            Rule.OPTED_OUT,
            "This person turned off marketing messages from the agency in WhatsApp, so "
            f"the marketing template “{template.name}” cannot be sent to them (utility "
            "templates still can).",
            topic=WHATSAPP_MARKETING_TOPIC,
            template=template.name,
            opted_out_at=latest.recorded_at.isoformat(),
        )


def check_marketing_destination(contact: Contact, template: MessageTemplate) -> None:
    """No marketing template to a US number: Meta stopped delivering them (131049)."""
    if us_marketing_blocked(template, contact.wa_id or ""):
        raise SendRefused(
            Rule.MARKETING_UNAVAILABLE,
            f"Meta has not delivered marketing templates to US (+1) numbers since "
            f"April 1, 2025, so “{template.name}” cannot be sent to this person; a utility "
            "template can.",
            template=template.name,
        )


def check_tier(number: PhoneNumber, contact: Contact, now: datetime) -> None:
    """Unique contacts reached by business-initiated messages in a moving 24 h, per
    business portfolio (shared by all its numbers), from the maintained count
    (``messaging.reach``). Call under ``reach.lock`` and record the reach
    (``reach.record_reached``) in the same transaction."""
    portfolio = number.waba.portfolio
    portfolio_id = portfolio.pk if portfolio else None
    limit = TIER_LIMITS.get(portfolio.messaging_limit_tier) if portfolio else 250
    if limit is None:
        return
    if not reach.not_reached(portfolio_id, [contact.pk], now):
        return  # already counted in this 24 h
    reached = reach.reached_count(portfolio_id, now)
    if reached >= limit and reach.reconcile(portfolio_id, now):
        reached = reach.reached_count(portfolio_id, now)  # slots of failed sends came back
    if reached >= limit:
        raise SendRefused(
            Rule.TIER_LIMIT,
            f"The daily messaging limit ({limit:,} people in 24 hours) is used up; new people "
            "can be messaged again as earlier sends age past 24 hours.",
            limit=limit,
            reached=reached,
            remaining=0,
        )


def check_sensitive_data(
    agency: Agency,
    content: dict[str, Any],
    *,
    justification: str = "",
    role: Callable[[], str | None] = lambda: None,
) -> dlp_outbound.Check | None:
    """The agency's DLP policy on what the message says (one scan of its texts): None when
    nothing was found; the check when the message may go (only flag-level findings, or
    blocking ones with an accepted justification from a role that may override); else
    SendRefused naming the kinds found, never the values. ``role`` is asked only when
    something blocks (the sender's membership is one query)."""
    found = dlp_outbound.check(agency, content)
    if not found.findings:
        return None
    blocking = found.blocking
    if not blocking:
        return found
    may_override = found.engine.may_override(role())
    kinds = found.blocking_kinds
    if may_override and justification.strip():
        problem = dlp_outbound.justification_problem(found.engine, justification)
        if not problem:
            return found
        raise SendRefused(
            Rule.SENSITIVE_DATA, problem, kinds=kinds, may_override=True, justification=True
        )
    raise SendRefused(
        Rule.SENSITIVE_DATA,
        dlp_outbound.refusal_text(found, may_override=may_override),
        kinds=kinds,
        may_override=may_override,
    )
