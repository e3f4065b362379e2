"""Outbound DLP: one scan of what a message would say, before it is stored or sent.

``check(agency, content)`` scans the readable strings of the message's stored form (text,
captions, a template's values, interactive texts) with the agency's policy and rules;
``messaging.policy.check_sensitive_data`` turns a blocking finding into ``SendRefused``
(``Rule.SENSITIVE_DATA``) unless the sender's role may override and gave a justification;
``record(...)`` stores what was found beside the message sent anyway (``DlpFlag``: kinds
and offsets, the justification), audits it and publishes ``dlp.flagged`` in the message's
transaction; ``record_blocked(...)`` publishes the refusal.

Campaigns screen each recipient's template values with ``screen(agency)`` — the policy
and rules loaded once per chunk — and ``Screen.blocking(values)``: one scan of the values
per recipient, no query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bsp import events
from bsp.events import types
from records.audit import Actor, record_event
from records.dlp.models import DlpFlag
from records.dlp.policy import DETECTOR_VERSION, Engine, Finding, describe, kinds_of, texts_of
from tenants.models import Agency

JUSTIFICATION_MIN = 10
JUSTIFICATION_MAX = 1000


@dataclass(frozen=True)
class Check:
    """What one outbound message holds: every finding, and those that block it."""

    engine: Engine
    findings: tuple[Finding, ...]

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if self.engine.blocks(f))

    @property
    def kinds(self) -> list[str]:
        return kinds_of(self.findings)

    @property
    def blocking_kinds(self) -> list[str]:
        return kinds_of(self.blocking)


def check(agency: Agency | int, content: Mapping[str, Any]) -> Check:
    engine = Engine.for_agency(agency, "out")
    return Check(engine, tuple(engine.find_all(texts_of(content))))


def refusal_text(found: Check, *, may_override: bool) -> str:
    """The agent's error: what kind of data was found (never the value) and what to do."""
    what = describe(found.blocking)
    text = (
        f"This message contains {what}. Sensitive data must not be sent over WhatsApp: "
        "remove it, or tell the person how to share it securely."
    )
    if may_override:
        text += " If it must be sent, give a justification: it is recorded with the message."
    return text


def justification_problem(engine: Engine, justification: str) -> str:
    """Why a justification cannot be accepted ("" when it can): long enough to mean
    something, and not carrying sensitive data itself (it is kept in the audit trail)."""
    text = justification.strip()
    if len(text) < JUSTIFICATION_MIN:
        return (
            f"Give a justification of at least {JUSTIFICATION_MIN} characters: why this "
            "sensitive data must be sent."
        )
    if len(text) > JUSTIFICATION_MAX:
        return f"Keep the justification to {JUSTIFICATION_MAX:,} characters."
    inside = engine.find("justification", text)
    if any(f.kind != "phi_hint" for f in inside):
        return (
            f"The justification itself contains {describe(inside)}; explain why without "
            "repeating it (justifications are kept in the audit trail)."
        )
    return ""


def record(
    *,
    message: Any,  # messaging.models.Message, just created (its transaction is open)
    found: Check,
    actor: Actor,
    justification: str = "",
    user_id: int | None = None,
) -> DlpFlag:
    """The findings of a message that goes out (flag-only findings, or blocking ones sent
    anyway with a justification): stored beside it, audited, published."""
    justified = bool(found.blocking)
    flag = DlpFlag.objects.create(
        agency_id=message.agency_id,
        message_id=message.pk,
        conversation_id=message.conversation_id,
        direction=DlpFlag.Direction.OUTBOUND,
        outcome=DlpFlag.Outcome.JUSTIFIED if justified else DlpFlag.Outcome.FLAGGED,
        kinds=found.kinds,
        findings=[f.as_json() for f in found.findings],
        detector_version=DETECTOR_VERSION,
        justification=justification.strip() if justified else "",
        justified_by_id=user_id if justified else None,
    )
    if justified:
        record_event(
            agency_id=message.agency_id,
            actor=actor,
            action="dlp.sent_with_justification",
            target=message,
            changes={"kinds": found.blocking_kinds, "justification": flag.justification},
        )
    _publish(flag, "justified" if justified else "flagged")
    return flag


def record_blocked(agency_id: int, kinds: Sequence[str], sender_type: str) -> None:
    """A refused message: nothing is stored but the refusal's audit event (written by the
    send path) and this event — kinds only."""
    events.publish(
        agency_id=agency_id,
        type=types.DLP_FLAGGED,
        subject={},
        payload={
            "direction": "out",
            "outcome": "blocked",
            "kinds": list(kinds),
            "sender_type": sender_type,
        },
    )


def _publish(flag: DlpFlag, outcome: str) -> None:
    events.publish(
        agency_id=flag.agency_id,
        type=types.DLP_FLAGGED,
        subject={
            "message": flag.message_id,
            "conversation": flag.conversation_id,
            "dlp_flag": flag.pk,
        },
        payload={"direction": "out", "outcome": outcome, "kinds": flag.kinds},
    )


# --- campaigns: one engine per chunk --------------------------------------------------------


class Screen:
    """The outbound policy of one agency for a campaign chunk: ``blocking(values)`` is one
    scan of a recipient's template values, no query. ``skipped`` counts the recipients
    refused, by kind, for the chunk's audit event (``record_skips``)."""

    def __init__(self, agency: Agency | int) -> None:
        self.engine = Engine.for_agency(agency, "out")
        self.skipped: dict[str, int] = {}

    def blocking(self, values: Mapping[str, Any]) -> list[str]:
        """The kinds in ``values`` that block this recipient's message ([]: none)."""
        texts = [(f"value:{k}", v) for k, v in values.items() if isinstance(v, str) and v]
        kinds = kinds_of(f for f in self.engine.find_all(texts) if self.engine.blocks(f))
        for kind in kinds:
            self.skipped[kind] = self.skipped.get(kind, 0) + 1
        return kinds

    def record_skips(self, campaign: Any) -> None:
        """One audit event and one ``dlp.flagged`` for the chunk's refused recipients (in
        the chunk's transaction), kinds and counts only."""
        if not self.skipped:
            return
        counts = dict(sorted(self.skipped.items()))
        record_event(
            agency_id=campaign.agency_id,
            actor=Actor.system("campaigns"),
            action="dlp.campaign_recipients_skipped",
            target=campaign,
            changes={"kinds": counts},
        )
        events.publish(
            agency_id=campaign.agency_id,
            type=types.DLP_FLAGGED,
            subject={"campaign": campaign.pk},
            payload={"direction": "out", "outcome": "skipped", "kinds": counts},
        )
        self.skipped = {}


def screen(agency: Agency | int) -> Screen:
    return Screen(agency)
