"""Writing webhook subscriptions: create, update, rotate the secret, disable/enable,
delete, send a test event. Each is audited (``records.audit``) and publishes one
``webhook_subscription.changed`` event, in the transaction that makes the change.

Secrets: ``whsec_`` + 32 random bytes (url-safe base64), returned once by ``create`` and
``rotate_secret`` and stored encrypted (``tenants.crypto``): signing needs the secret itself.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from bsp import events as stream
from bsp.events import types
from bsp.integrations import events as hook_events
from bsp.integrations import urlsafety
from bsp.integrations.models import Delivery, WebhookSubscription
from records.audit import Actor, record_event
from tenants.models import Agency
from tenants.scoping import agency_scope
from tenants.services import ApplicationError, ensure_agency_active

SUBSCRIPTION_CHANGED: str = getattr(
    types, "WEBHOOK_SUBSCRIPTION_CHANGED", "webhook_subscription.changed"
)
MAX_SUBSCRIPTIONS = 20


class WebhookError(ApplicationError):
    """A refused change to a subscription (the message is shown to the admin)."""


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _clean_events(chosen: Iterable[str]) -> list[str]:
    picked = sorted(set(chosen))
    unknown = [name for name in picked if name not in hook_events.ALL]
    if unknown:
        raise WebhookError(f"Unknown event types: {', '.join(unknown)[:200]}.")
    if not picked:
        raise WebhookError("Choose at least one event.")
    return picked


def _clean_url(url: str) -> str:
    try:
        urlsafety.check(url)
    except urlsafety.UnsafeURL as exc:
        raise WebhookError(str(exc)) from exc
    return url


def _changed(actor: Actor, sub: WebhookSubscription, action: str, **extra: Any) -> None:
    changes = {"url": sub.url, "events": sub.events, "enabled": sub.enabled, **extra}
    record_event(
        agency_id=sub.agency_id,
        actor=actor,
        action=f"webhook_subscription.{action}",
        target=sub,
        changes=changes,
    )
    stream.publish(
        agency_id=sub.agency_id,
        type=SUBSCRIPTION_CHANGED,
        subject={"subscription": sub.pk},
        payload={"action": action, "enabled": sub.enabled, "events": sub.events, **extra},
    )


def create_subscription(
    *,
    actor: Actor,
    agency: Agency,
    url: str,
    events: Iterable[str],
    description: str = "",
    created_by: Any = None,
) -> tuple[WebhookSubscription, str]:
    """A new enabled subscription and its secret (the only time it is returned)."""
    ensure_agency_active(agency)
    url, chosen = _clean_url(url), _clean_events(events)
    secret = new_secret()
    with agency_scope(agency), transaction.atomic():
        if WebhookSubscription.objects.filter(agency=agency).count() >= MAX_SUBSCRIPTIONS:
            raise WebhookError(f"An agency can have at most {MAX_SUBSCRIPTIONS} subscriptions.")
        sub = WebhookSubscription.objects.create(
            agency=agency,
            url=url,
            events=chosen,
            description=description.strip()[:200],
            secret=secret,
            secret_hint=secret[:10],
            created_by=created_by,
        )
        _changed(actor, sub, "created")
    return sub, secret


def _locked(sub: WebhookSubscription) -> WebhookSubscription:
    return WebhookSubscription.objects.select_for_update().get(pk=sub.pk)


def update_subscription(
    *,
    actor: Actor,
    subscription: WebhookSubscription,
    url: str,
    events: Iterable[str],
    description: str = "",
) -> WebhookSubscription:
    ensure_agency_active(subscription.agency)
    url, chosen = _clean_url(url), _clean_events(events)
    with agency_scope(subscription.agency_id), transaction.atomic():
        sub = _locked(subscription)
        sub.url, sub.events, sub.description = url, chosen, description.strip()[:200]
        sub.save(update_fields=["url", "events", "description", "updated_at"])
        _changed(actor, sub, "updated")
    return sub


def rotate_secret(*, actor: Actor, subscription: WebhookSubscription) -> str:
    """A new secret, in force for every delivery from now on (retries included)."""
    ensure_agency_active(subscription.agency)
    secret = new_secret()
    with agency_scope(subscription.agency_id), transaction.atomic():
        sub = _locked(subscription)
        sub.secret, sub.secret_hint = secret, secret[:10]
        sub.save(update_fields=["secret", "secret_hint", "updated_at"])
        _changed(actor, sub, "secret_rotated")
    return secret


def disable(
    *, actor: Actor, subscription: WebhookSubscription, reason: str = "Disabled by an admin"
) -> WebhookSubscription:
    """Stop delivering (pending deliveries wait; new events are not queued for it)."""
    with agency_scope(subscription.agency_id), transaction.atomic():
        sub = _locked(subscription)
        if not sub.enabled:
            return sub
        sub.enabled, sub.disabled_at = False, timezone.now()
        sub.disabled_reason = reason.strip()[:200] or "Disabled by an admin"
        sub.save(update_fields=["enabled", "disabled_at", "disabled_reason", "updated_at"])
        _changed(actor, sub, "disabled", reason=sub.disabled_reason)
    return sub


def enable(*, actor: Actor, subscription: WebhookSubscription) -> WebhookSubscription:
    ensure_agency_active(subscription.agency)
    _clean_url(subscription.url)
    with agency_scope(subscription.agency_id), transaction.atomic():
        sub = _locked(subscription)
        if sub.enabled:
            return sub
        sub.enabled, sub.disabled_at, sub.disabled_reason = True, None, ""
        sub.failing_since = None
        sub.save(
            update_fields=[
                "enabled",
                "disabled_at",
                "disabled_reason",
                "failing_since",
                "updated_at",
            ]
        )
        _changed(actor, sub, "enabled")
        transaction.on_commit(lambda: _wake(sub))
    return sub


def delete(*, actor: Actor, subscription: WebhookSubscription) -> None:
    """Delete the subscription and its delivery log (audited: the trail keeps the fact)."""
    with agency_scope(subscription.agency_id), transaction.atomic():
        sub = _locked(subscription)
        _changed(actor, sub, "deleted")
        sub.delete()


def send_test(*, actor: Actor, subscription: WebhookSubscription) -> Delivery:
    """Queue a ``webhook.test`` delivery (delivered like any other, retried too)."""
    ensure_agency_active(subscription.agency)
    now = timezone.now()
    event_id = f"evt_test_{uuid.uuid4().hex}"
    body = envelope(
        event_id=event_id,
        type=hook_events.TEST,
        created_at=now.isoformat(),
        agency_id=subscription.agency_id,
        sequence=None,
        subject={"subscription": subscription.pk},
        payload={"message": "A test event from Civic Relay."},
    )
    with agency_scope(subscription.agency_id), transaction.atomic():
        sub = _locked(subscription)
        delivery = Delivery.objects.create(
            agency_id=sub.agency_id,
            subscription=sub,
            event_id=event_id,
            type=hook_events.TEST,
            body=body,
            event_created_at=now,
            created_at=now,
            next_attempt_at=now,
        )
        _changed(actor, sub, "test_sent", event_id=event_id)
        transaction.on_commit(lambda: _wake(sub))
    return delivery


def disable_failing(subscription_id: int, since: Any) -> None:
    """The sender's: a subscription failing for WEBHOOK_DISABLE_AFTER is disabled, and the
    fact published (the agency's admins are notified from that event) and audited."""
    sub = WebhookSubscription.objects.select_for_update().filter(pk=subscription_id).first()
    if sub is None or not sub.enabled:
        return
    sub.enabled, sub.disabled_at = False, timezone.now()
    sub.disabled_reason = "Every delivery failed for 24 hours"
    sub.save(update_fields=["enabled", "disabled_at", "disabled_reason", "updated_at"])
    _changed(
        Actor.system("integrations"),
        sub,
        "disabled",
        reason=sub.disabled_reason,
        failing_since=since.isoformat(),
        notify="agency_admins",
    )


def envelope(
    *,
    event_id: str,
    type: str,
    created_at: str,
    agency_id: int,
    sequence: int | None,
    subject: dict[str, Any],
    payload: dict[str, Any],
) -> str:
    """The JSON body every delivery carries (documented in the README)."""
    return json.dumps(
        {
            "id": event_id,
            "type": type,
            "created_at": created_at,
            "agency": agency_id,
            "sequence": sequence,
            "data": {"subject": subject, "payload": payload},
        },
        separators=(",", ":"),
        sort_keys=False,
    )


def _wake(sub: WebhookSubscription) -> None:
    from bsp.integrations.delivery import wake

    wake(sub.agency_id, sub.pk)
