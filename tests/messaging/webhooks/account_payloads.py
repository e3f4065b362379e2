"""Real-shaped WABA-level webhooks (cloud-api.md §4.5, §5.7): no `metadata`, routed by the
entry's WABA id, with `entry[].time` as an integer."""

from __future__ import annotations

from typing import Any

ENTRY_TIME = 1751247548  # 2025-06-30


def waba_event(
    waba_id: str, field: str, value: dict[str, Any], *, time: int = ENTRY_TIME
) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "time": time, "changes": [{"field": field, "value": value}]}],
    }


def template_status(
    waba_id: str,
    event: str,
    *,
    template_id: int,
    name: str,
    language: str = "en_US",
    category: str = "UTILITY",
    reason: str | None = "NONE",
    time: int = ENTRY_TIME,
    **extra: Any,
) -> dict[str, Any]:
    value = {
        "event": event,
        "message_template_id": template_id,  # an integer in webhooks
        "message_template_name": name,
        "message_template_language": language,
        "message_template_category": category,
        "reason": reason,
        **extra,
    }
    return waba_event(waba_id, "message_template_status_update", value, time=time)


def template_quality(
    waba_id: str,
    new_score: str,
    *,
    template_id: int,
    name: str,
    language: str = "en_US",
    previous_score: str = "GREEN",
    time: int = ENTRY_TIME,
) -> dict[str, Any]:
    value = {
        "previous_quality_score": previous_score,
        "new_quality_score": new_score,
        "message_template_id": template_id,
        "message_template_name": name,
        "message_template_language": language,
    }
    return waba_event(waba_id, "message_template_quality_update", value, time=time)


def template_category(
    waba_id: str,
    *,
    template_id: int,
    name: str,
    language: str = "en_US",
    time: int = ENTRY_TIME,
    **categories: str,
) -> dict[str, Any]:
    """``new_category=`` + ``previous_category=``, or the heads-up ``correct_category=``."""
    value = {
        "message_template_id": template_id,
        "message_template_name": name,
        "message_template_language": language,
        **categories,
    }
    return waba_event(waba_id, "template_category_update", value, time=time)


def phone_number_quality(
    waba_id: str,
    display_phone_number: str,
    event: str,
    *,
    time: int = ENTRY_TIME,
    **limits: str,
) -> dict[str, Any]:
    """``limits``: ``current_limit``, ``max_daily_conversations_per_business``, ``old_limit``."""
    value = {"display_phone_number": display_phone_number, "event": event, **limits}
    return waba_event(waba_id, "phone_number_quality_update", value, time=time)


def account_update(
    waba_id: str, event: str, *, time: int = ENTRY_TIME, **fields: Any
) -> dict[str, Any]:
    return waba_event(waba_id, "account_update", {"event": event, **fields}, time=time)


def restriction(waba_id: str, *restrictions: tuple[str, int], time: int = ENTRY_TIME):
    info = [{"restriction_type": kind, "expiration": expires} for kind, expires in restrictions]
    return account_update(waba_id, "ACCOUNT_RESTRICTION", restriction_info=info, time=time)


def ban(
    waba_id: str, state: str, *, date: str = "April 17, 2025", time: int = ENTRY_TIME
) -> dict[str, Any]:
    ban_info = {"waba_ban_state": state, "waba_ban_date": date}
    return account_update(waba_id, "DISABLED_UPDATE", ban_info=ban_info, time=time)
