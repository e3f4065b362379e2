"""Inbound DLP: what citizens send cannot be refused, so it is flagged, masked in views
and, if the agency wants, answered once with a request not to send such data.

``flag_messages(agency, rows, publish)`` runs in the webhook worker, in the change's
transaction, after the rows are stored: one scan of each new message's readable strings
(text, captions, an edit's new text, form replies) with the agency's policy and rules (the
policy arrives with the agency, the rules from the process cache: no query for a change
without findings); each message with findings gets a ``DlpFlag`` (kinds, offsets, detector
version — never the values) in one INSERT, and one ``dlp.flagged`` event through the
change's own events. The message row itself is untouched (its content is immutable).

``auto_reply(agency, flagged)`` then sends the agency's text through the normal send path
(``messaging.services.send_message``: the policy, the 24-hour window, the queue), at most
once per conversation per ``auto_reply_hours`` (``DlpAutoReply``, locked), never to a
message written more than an hour ago (a late webhook) and never twice for one message
(its idempotency key).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from bsp.events import types
from bsp.sensitive_data import CUSTOM, PHI_HINT
from records.dlp.models import DlpAutoReply, DlpFlag, DlpPolicy, SensitiveDataRule
from records.dlp.policy import DETECTOR_VERSION, Engine, Finding, kinds_of, policy_for, texts_of
from tenants.models import Agency

logger = logging.getLogger(__name__)

COMPONENT = "dlp_auto_reply"
MAX_AGE = timedelta(hours=1)
# Rows that are not something the citizen wrote (or carry no text of theirs).
_NOT_SCANNED = frozenset({"reaction", "system", "errors", "revoke", "unsupported", "location"})

Publish = Callable[[str, dict[str, Any], dict[str, Any]], None]


def _asks_for_reply(finding: Finding) -> bool:
    """Data worth telling the citizen about: validated numbers, the agency's mask and block
    rules (not flag-only rules, not PHI hints)."""
    if finding.kind == PHI_HINT:
        return False
    if finding.kind == CUSTOM:
        return finding.action in (SensitiveDataRule.Action.MASK, SensitiveDataRule.Action.BLOCK)
    return True


def flag_messages(
    agency_of: Callable[[], Agency], rows: Sequence[Any], publish: Publish
) -> list[Any]:
    """Flag the new inbound ``rows`` that carry sensitive data; the rows that should get the
    automatic reply (see the module docstring). ``agency_of`` gives the agency (with its
    policy joined), asked only when a row has something to scan."""
    candidates = [
        r for r in rows if r.direction == "in" and r.type not in _NOT_SCANNED and r.pk is not None
    ]
    if not candidates:
        return []
    policy = policy_for(agency_of(), joined=True)
    if not (policy.inbound_flag or policy.auto_reply_enabled):
        return []
    engine = Engine(policy, "in")
    flags: list[DlpFlag] = []
    replies: list[Any] = []
    for row in candidates:
        findings = engine.find_all(texts_of(row.content))
        if not findings:
            continue
        if any(_asks_for_reply(f) for f in findings):
            replies.append(row)
        if policy.inbound_flag:
            flags.append(
                DlpFlag(
                    agency_id=row.agency_id,
                    message_id=row.pk,
                    conversation_id=row.conversation_id,
                    direction=DlpFlag.Direction.INBOUND,
                    kinds=kinds_of(findings),
                    findings=[f.as_json() for f in findings],
                    detector_version=DETECTOR_VERSION,
                )
            )
    if flags:
        DlpFlag.objects.bulk_create(flags)
        for flag in flags:
            publish(
                types.DLP_FLAGGED,
                {
                    "message": flag.message_id,
                    "conversation": flag.conversation_id,
                    "dlp_flag": flag.pk,
                },
                {"direction": "in", "outcome": "flagged", "kinds": flag.kinds},
            )
    return replies if policy.auto_reply_enabled else []


Send = Callable[[Any, str], Any]  # (the citizen's message, the text) → the queued reply or None


def auto_reply(
    agency: Agency, rows: Sequence[Any], *, send: Send, now: datetime | None = None
) -> list[Any]:
    """The automatic reply for the conversations of ``rows`` (flagged, new), where due;
    the queued replies. Runs in the change's transaction (the cooldown row is locked).
    ``send`` queues the text through the normal send path (``messaging.services``; the
    caller passes it: this layer imports nothing of messaging) and gives None when the
    policy refused it (e.g. the window is closed)."""
    if not rows:
        return []
    policy = policy_for(agency, joined=True)
    text = (policy.auto_reply_text or "").strip()
    if not policy.auto_reply_enabled or not text:
        return []
    now = now or timezone.now()
    first: dict[int, Any] = {}
    for row in rows:
        first.setdefault(row.conversation_id, row)
    sent = []
    for row in first.values():
        reply = _reply(policy, row, text, now, send)
        if reply is not None:
            sent.append(reply)
    return sent


def _reply(policy: DlpPolicy, row: Any, text: str, now: datetime, send: Send) -> Any:
    written = row.received_at or row.created_at
    if written < now - MAX_AGE:
        logger.info("no DLP auto-reply for message %s: written at %s", row.pk, written)
        return None
    last = DlpAutoReply.objects.select_for_update().filter(conversation_id=row.conversation_id)
    found = last.first()
    if found is not None and found.sent_at > now - timedelta(hours=policy.auto_reply_hours):
        return None
    reply = send(row, text[:4096])
    if reply is None:
        return None
    if found is None:
        DlpAutoReply.objects.create(
            agency_id=row.agency_id, conversation_id=row.conversation_id, sent_at=now, message=reply
        )
    else:
        DlpAutoReply.objects.filter(pk=found.pk).update(sent_at=now, message=reply)
    return reply
