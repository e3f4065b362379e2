"""WABA-level webhooks: template status/quality/category, phone number quality and limits,
account updates (restrictions, bans). Each updates its model and writes an audit event when
something changed. Contract: handlers run in the agency scope, in a transaction, idempotent.

These changes carry no ``metadata``: ``processing`` routes them by the entry's WABA id, so
every lookup here is confined to ``change.route.waba_pk`` (and, through the scope and RLS,
to its agency).

- Idempotent: a field is written only when it differs, and the audit event is written only
  when a field changed, so a redelivered change writes nothing. Events that change no field
  (a violation notice, a partner event) are recorded once per (event, entry time, content):
  the target keeps their fingerprints (``webhook_notices``).
- Order-proof per field: the target keeps the entry ``time`` of the newest webhook that
  reported each field (``webhook_times``); an older change, delivered late, leaves that
  field alone (Meta does not guarantee order, and retries for up to 7 days, §5.8).
- Facts are state, the audit trail is a record: nothing here reads ``AuditEvent`` to
  decide. A number's status before a ban is ``PhoneNumber.status_before_ban``.
- Not ours is not an error: a template created directly in Meta's WhatsApp Manager, or a
  number we have not connected, is legitimately unknown; it is logged and skipped.
- ``InvalidChange`` only when the payload itself is unusable (no event, no template
  identity, a restriction list that is not a list…): the change is then quarantined.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from typing import Any

from messaging.webhooks.changes import Change, InvalidChange
from messaging.whatsapp.templates import normalize_language
from records.audit import Actor, record_event
from templates_mgr.models import MessageTemplate
from templates_mgr.services import publish_template_status
from tenants.models import BusinessPortfolio, PhoneNumber, WhatsAppBusinessAccount
from tenants.services import publish_phone_number_changed, set_phone_number_status

logger = logging.getLogger(__name__)

ACTOR = Actor.worker("messaging.drain_webhook_events")

Status = MessageTemplate.Status
Tier = BusinessPortfolio.MessagingLimitTier

# Meta's `event` words (cloud-api.md §4.4) → our status. REINSTATED: "no longer flagged or
# disabled and can be sent again". UNARCHIVED/UNLOCKED restore a template only from the
# state they undo (see _UNDOING); any other word keeps the status and is logged.
_TEMPLATE_STATUS_EVENTS: dict[str, str] = {
    **{status.value: status.value for status in Status if status != Status.DRAFT},
    "REINSTATED": Status.APPROVED,
}
_UNDOING: dict[str, str] = {"UNARCHIVED": Status.ARCHIVED, "UNLOCKED": Status.LOCKED}

# Messaging limits live on the business portfolio since Oct 2025 (cloud-api.md §7.3). The
# older per-number tiers map to their successor on today's ladder: 1K became the 2K rung,
# and 50 (unverified) is below the lowest tier a portfolio can have.
_LIMIT_TIERS: dict[str, str] = {
    "TIER_50": Tier.TIER_250,
    "TIER_250": Tier.TIER_250,
    "TIER_1K": Tier.TIER_2K,
    "TIER_2K": Tier.TIER_2K,
    "TIER_10K": Tier.TIER_10K,
    "TIER_100K": Tier.TIER_100K,
    "TIER_UNLIMITED": Tier.UNLIMITED,
}

BAN_STATE_DISABLED = "DISABLE"
BAN_STATE_REINSTATED = "REINSTATE"
_NUMBERS_GONE_EVENTS = ("ACCOUNT_DELETED", "ACCOUNT_OFFBOARDED")


# --- templates ------------------------------------------------------------------------------


def handle_template_status(change: Change) -> None:
    value = change.value
    event = _word(value, "event")
    template = _find_template(change)
    if template is None:
        return
    status = _status_for(event, template.status)
    if status is None:
        if event not in _TEMPLATE_STATUS_EVENTS and event not in _UNDOING:
            logger.warning("template status event %r not known; status kept", event[:40])
        return
    updates: dict[str, Any] = {"status": status}
    if status == Status.REJECTED:
        updates["rejected_reason"] = _reason(value.get("reason"))
        info = value.get("rejection_info")
        updates["rejection_info"] = info if isinstance(info, dict) else {}
    elif status == Status.APPROVED:  # approved after an edit: the old rejection is moot
        updates["rejected_reason"] = ""
        updates["rejection_info"] = {}
    updates.update(_meta_id_if_missing(template, change))
    context = {"event": event, "reason": value.get("reason")}
    for extra in ("disable_info", "other_info"):
        if extra in value:
            context[extra] = value[extra]
    _apply(change, template, updates, action="template.status_changed", context=context)


def _status_for(event: str, current: str) -> str | None:
    """Our status for Meta's event word; None keeps the current one."""
    if event in _UNDOING:
        return Status.APPROVED if current == _UNDOING[event] else None
    return _TEMPLATE_STATUS_EVENTS.get(event)


def handle_template_quality(change: Change) -> None:
    value = change.value
    score = _word(value, "new_quality_score")
    template = _find_template(change)
    if template is None:
        return
    updates = {"quality_score": score[:16], **_meta_id_if_missing(template, change)}
    context = {"previous_quality_score": value.get("previous_quality_score")}
    _apply(change, template, updates, action="template.quality_changed", context=context)


def handle_template_category(change: Change) -> None:
    value = change.value
    new_category = value.get("new_category")
    announced = value.get("correct_category")
    if not new_category and not announced:
        raise InvalidChange("template_category_update without new_category or correct_category")
    template = _find_template(change)
    if template is None:
        return
    context = {
        "previous_category": value.get("previous_category"),
        "correct_category": announced,
    }
    if not new_category:
        # A heads-up: Meta will switch the category in 24 h. Nothing changes yet.
        _record_once(
            change,
            template,
            action="template.category_change_announced",
            details=context,
            context={"current_category": template.category},
        )
        return
    if new_category not in MessageTemplate.Category.values:
        logger.warning("template %s: category %r not known; kept", template.pk, new_category)
        return
    updates = {"category": new_category, **_meta_id_if_missing(template, change)}
    _apply(change, template, updates, action="template.category_changed", context=context)


def _find_template(change: Change) -> MessageTemplate | None:
    """By Meta's id on this WABA, else by name + language (templates created before we kept
    ids). A row already holding a *different* id is another incarnation of the name (deleted
    and recreated in WhatsApp Manager), not this one."""
    value = change.value
    meta_id = _template_id(value.get("message_template_id"))
    name = value.get("message_template_name")
    if not meta_id and not name:
        raise InvalidChange("no message_template_id or message_template_name")
    templates = MessageTemplate.objects.select_for_update().filter(waba_id=change.route.waba_pk)
    found = templates.filter(meta_template_id=meta_id).first() if meta_id else None
    if found is None and name:
        language = normalize_language(value.get("message_template_language"))
        found = next(
            (
                t
                for t in templates.filter(name=str(name))
                if normalize_language(t.language) == language
                and t.meta_template_id in ("", meta_id)
            ),
            None,
        )
    if found is None:
        # Created directly in WhatsApp Manager, or deleted here: legitimately not ours.
        logger.info(
            "%s for a template we do not have (id %s, %s); ignored",
            change.field,
            meta_id or "-",
            str(name)[:80],
            extra={"event_id": change.event_id, "waba_id": change.route.waba_id},
        )
    return found


def _template_id(raw: Any) -> str:
    """`message_template_id` is an integer in webhooks (a string in the Graph API)."""
    if raw is None or raw == "":
        return ""
    if isinstance(raw, bool) or not re.fullmatch(r"\d{1,30}", str(raw)):
        raise InvalidChange(f"message_template_id {str(raw)[:40]!r} is not a template id")
    return str(raw)


def _meta_id_if_missing(template: MessageTemplate, change: Change) -> dict[str, str]:
    meta_id = _template_id(change.value.get("message_template_id"))
    return {"meta_template_id": meta_id} if meta_id and not template.meta_template_id else {}


def _reason(raw: Any) -> str:
    """Meta says `"NONE"` or `null` when there is no reason."""
    text = str(raw or "").strip()
    return "" if text.upper() == "NONE" else text[:200]


# --- phone numbers and the portfolio's messaging limit -------------------------------------


def handle_phone_number_quality(change: Change) -> None:
    """FLAGGED / UNFLAGGED / UPGRADE / DOWNGRADE / ONBOARDING / THROUGHPUT_UPGRADE.

    A flagged number keeps its ``status``: Meta still lets it send (flagging is a warning
    that blocks tier upgrades, and no longer exists since Oct 2025), while our ``status``
    other than connected stops every send. FLAGGED means the quality reached low (RED);
    UNFLAGGED says only that it is no longer low (medium or high, Meta does not say which),
    so a RED rating becomes UNKNOWN rather than a guess.
    """
    value = change.value
    event = str(value.get("event") or "").upper()
    reported = _reported_limit(value)
    if not event and reported is None:
        raise InvalidChange("phone_number_quality_update without event or limit")
    number = _find_number(change, value.get("display_phone_number"))
    context = {"event": event, "display_phone_number": value.get("display_phone_number")}
    if number is not None:
        quality = _quality_after(event, number.quality_rating)
        if quality is not None:
            updates: dict[str, Any] = {"quality_rating": quality}
            _apply(change, number, updates, action="phone_number.quality_changed", context=context)
        if event == "THROUGHPUT_UPGRADE":
            updates = {"throughput_tier": PhoneNumber.ThroughputTier.HIGH}
            _apply(
                change, number, updates, action="phone_number.throughput_changed", context=context
            )
    if reported is not None:
        _set_messaging_limit(change, reported, context)


def _quality_after(event: str, current: str) -> str | None:
    if event == "FLAGGED":
        return PhoneNumber.QualityRating.RED
    if event == "UNFLAGGED" and current == PhoneNumber.QualityRating.RED:
        return PhoneNumber.QualityRating.UNKNOWN
    return None


def _reported_limit(value: dict[str, Any]) -> str | None:
    """`max_daily_conversations_per_business` replaces `current_limit` (removed Feb 2026).
    TIER_NOT_SET (a number that never sent) and unknown words set nothing."""
    for key in ("max_daily_conversations_per_business", "current_limit"):
        tier = _LIMIT_TIERS.get(str(value.get(key) or "").upper())
        if tier is not None:
            return tier
    return None


def _set_messaging_limit(change: Change, tier: str, context: dict[str, Any]) -> None:
    waba = _waba(change)
    if waba.portfolio_id is None:
        logger.warning(
            "messaging limit %s for WABA %s, which has no business portfolio; not kept",
            tier,
            waba.waba_id,
        )
        return
    portfolio = BusinessPortfolio.objects.select_for_update().get(pk=waba.portfolio_id)
    reported: dict[str, Any] = {
        key: change.value[key]
        for key in ("old_limit", "current_limit", "max_daily_conversations_per_business")
        if key in change.value
    }
    _apply(
        change,
        portfolio,
        {"messaging_limit_tier": tier},
        action="portfolio.messaging_limit_changed",
        context={**context, **reported, "waba_id": waba.waba_id},
    )


def _digits(text: Any) -> str:
    return re.sub(r"\D", "", str(text or ""))


def _find_number(change: Change, display_phone_number: Any) -> PhoneNumber | None:
    """Ours may be stored as "+1 555-0100"; Meta sends "15550100"."""
    wanted = _digits(display_phone_number)
    if not wanted:
        return None
    numbers = PhoneNumber.objects.select_for_update().filter(waba_id=change.route.waba_pk)
    found = next((n for n in numbers if _digits(n.display_phone_number) == wanted), None)
    if found is None:
        logger.info(
            "phone_number_quality_update for a number we do not have; number part ignored",
            extra={"event_id": change.event_id, "waba_id": change.route.waba_id},
        )
    return found


# --- account updates --------------------------------------------------------------------------


def handle_account_update(change: Change) -> None:
    value = change.value
    event = _word(value, "event")
    waba = _waba(change)
    if event == "ACCOUNT_RESTRICTION":
        _set_restrictions(change, waba, value.get("restriction_info"))
    elif event == "DISABLED_UPDATE":
        _set_ban_state(change, waba, value.get("ban_info"))
    else:
        details = {"event": event, **{k: v for k, v in value.items() if k != "event"}}
        _record_once(change, waba, action="waba.account_update", details=details)
        if event in _NUMBERS_GONE_EVENTS:
            _set_numbers(waba, PhoneNumber.Status.DISCONNECTED, reason=f"Meta: {event}")


def _waba(change: Change) -> WhatsAppBusinessAccount:
    waba = (
        WhatsAppBusinessAccount.objects.select_for_update().filter(pk=change.route.waba_pk).first()
    )
    if waba is None:  # removed since the route was cached
        raise InvalidChange(f"WABA {change.route.waba_id} is no longer connected")
    return waba


def _set_restrictions(change: Change, waba: WhatsAppBusinessAccount, info: Any) -> None:
    """Meta sends the account's restrictions as a list; we keep it as last reported. The
    sending policy reads it (messaging.policy: business-initiated / replies refused)."""
    if not isinstance(info, list) or not all(
        isinstance(item, dict) and isinstance(item.get("restriction_type"), str) for item in info
    ):
        raise InvalidChange("ACCOUNT_RESTRICTION without a restriction_info list")
    restrictions = [
        {"restriction_type": item["restriction_type"], "expiration": item.get("expiration")}
        for item in info
    ]
    _apply(
        change,
        waba,
        {"restrictions": restrictions},
        action="waba.restrictions_changed",
        context={"event": "ACCOUNT_RESTRICTION"},
    )


def _set_ban_state(change: Change, waba: WhatsAppBusinessAccount, info: Any) -> None:
    """DISABLE bans every number of the WABA; REINSTATE gives each banned number back the
    status it had before the ban (``status_before_ban``; connected if none is known);
    SCHEDULE_FOR_DISABLE and other states are kept on the WABA only: its numbers can still
    send until Meta actually disables the account."""
    state = info.get("waba_ban_state") if isinstance(info, dict) else None
    if not isinstance(state, str) or not state.strip():
        raise InvalidChange("DISABLED_UPDATE without ban_info.waba_ban_state")
    state = state.strip().upper()[:32]
    if _newer_report_exists(waba, "ban_state", _meta_time(change)):
        logger.info("DISABLED_UPDATE older than the WABA's ban state; ignored")
        return
    context = {"event": "DISABLED_UPDATE", "waba_ban_date": info.get("waba_ban_date")}
    _apply(change, waba, {"ban_state": state}, action="waba.ban_state_changed", context=context)
    if state == BAN_STATE_DISABLED:
        _set_numbers(waba, PhoneNumber.Status.BANNED, reason="Meta disabled the WABA")
    elif state == BAN_STATE_REINSTATED:
        banned = PhoneNumber.objects.select_for_update().filter(
            waba=waba, status=PhoneNumber.Status.BANNED
        )
        for number in banned:
            set_phone_number_status(
                actor=ACTOR,
                number=number,
                status=_status_before_ban(number),
                reason="Meta reinstated the WABA (webhook)",
            )


def _status_before_ban(number: PhoneNumber) -> str:
    """A number that was disconnected or pending before the ban goes back to that, not to
    connected (``set_phone_number_status`` keeps it when a number is banned)."""
    previous = number.status_before_ban
    if previous in PhoneNumber.Status.values and previous != PhoneNumber.Status.BANNED:
        return str(previous)
    return PhoneNumber.Status.CONNECTED


def _set_numbers(waba: WhatsAppBusinessAccount, status: str, *, reason: str) -> None:
    """Every number of the WABA not already in ``status``; each change is audited by
    ``set_phone_number_status``."""
    numbers = PhoneNumber.objects.select_for_update().filter(waba=waba).exclude(status=status)
    for number in numbers:
        set_phone_number_status(
            actor=ACTOR, number=number, status=status, reason=f"{reason} (webhook)"
        )


# --- applying and auditing ----------------------------------------------------------------------

# Meta retries a webhook for up to 7 days (cloud-api.md §5.8): a notice's fingerprint is
# remembered a little longer, then forgotten so the list stays short.
NOTICE_MEMORY_SECONDS = 8 * 24 * 3600

# What account webhooks write to: each keeps ``webhook_times``.
Reported = MessageTemplate | PhoneNumber | BusinessPortfolio | WhatsAppBusinessAccount


def notice_key(action: str, fingerprint: dict[str, Any]) -> str:
    text = json.dumps([action, fingerprint], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _word(value: dict[str, Any], key: str) -> str:
    word = value.get(key)
    if not isinstance(word, str) or not word.strip():
        raise InvalidChange(f"no {key}")
    return word.strip().upper()


def _meta_time(change: Change) -> int | None:
    return int(change.entry_time.timestamp()) if change.entry_time else None


def _newer_report_exists(target: Reported, field_name: str, meta_time: int | None) -> bool:
    """Did a webhook newer than this one already report ``field_name`` of ``target``?"""
    if meta_time is None:
        return False
    seen = (target.webhook_times or {}).get(field_name)
    return isinstance(seen, int) and seen > meta_time


def _apply(
    change: Change,
    target: Reported,
    updates: dict[str, Any],
    *,
    action: str,
    context: dict[str, Any],
) -> bool:
    """Write the fields that differ (and that no newer webhook set); one audit event for
    them, with Meta's words and the entry time. False when nothing changed."""
    meta_time = _meta_time(change)
    times: dict[str, Any] = dict(target.webhook_times or {})
    diff: dict[str, list[Any]] = {}
    for field_name, new in updates.items():
        if _newer_report_exists(target, field_name, meta_time):
            continue
        if meta_time is not None:
            # Reported now, changed or not: an older report delivered later must not undo it.
            times[field_name] = meta_time
        old = getattr(target, field_name)
        if old == new:
            continue
        setattr(target, field_name, new)
        diff[field_name] = [old, new]
    times_changed = times != target.webhook_times
    target.webhook_times = times
    if not diff:
        if times_changed:
            target.save(update_fields=["webhook_times"])
        return False
    fields = [
        *diff,
        *(["webhook_times"] if times_changed else []),
        *(["updated_at"] if hasattr(target, "updated_at") else []),
    ]
    target.save(update_fields=fields)
    record_event(
        agency_id=change.route.agency_id,
        actor=ACTOR,
        action=action,
        target=target,
        changes={**diff, **context, "meta_time": meta_time, "webhook_event": change.event_id},
    )
    _publish(target, diff)
    return True


def _publish(target: Reported, diff: dict[str, list[Any]]) -> None:
    """On the event stream, in this transaction: ``template.status`` for a template's
    status, quality or category, ``phone_number.changed`` for a number's quality or
    throughput and for every number of a portfolio whose messaging limit changed."""
    if isinstance(target, MessageTemplate):
        publish_template_status(target, diff, source="webhook")
    elif isinstance(target, PhoneNumber):
        publish_phone_number_changed(target, diff)
    elif isinstance(target, BusinessPortfolio):
        for number in PhoneNumber.objects.filter(waba__portfolio=target).order_by("pk"):
            publish_phone_number_changed(number, diff)


def _record_once(
    change: Change,
    target: MessageTemplate | WhatsAppBusinessAccount,
    *,
    action: str,
    details: dict[str, Any],
    context: dict[str, Any] | None = None,
) -> None:
    """Audit an event that changes no field, once: a redelivery (same entry time and
    ``details``, usually another WebhookEvent row) finds it already recorded. ``context``
    (our side of things) is recorded but not compared."""
    fingerprint = {**details, "meta_time": _meta_time(change)}
    key = notice_key(action, fingerprint)
    now = int(time.time())
    # The caller holds the target's row lock, so two workers cannot both miss the key.
    seen = {
        k: at
        for k, at in (target.webhook_notices or {}).items()
        if isinstance(at, int) and at > now - NOTICE_MEMORY_SECONDS
    }
    if key in seen:
        return
    target.webhook_notices = {**seen, key: now}
    target.save(update_fields=["webhook_notices"])
    record_event(
        agency_id=change.route.agency_id,
        actor=ACTOR,
        action=action,
        target=target,
        changes={**(context or {}), **fingerprint, "webhook_event": change.event_id},
    )
