"""Writing an agency's sensitive-data rules and policy: each rule is checked
(``bsp.sensitive_data`` refuses patterns that could backtrack catastrophically), each change
audited and published in the transaction that saves it; and revealing masked data, audited."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from bsp import events
from bsp.events import types
from bsp.sensitive_data import UnsafePattern, compile_rule, find_sensitive
from records.audit import Actor, record_event
from records.dlp.models import AUTO_REPLY_MAX, BUILT_IN_KINDS, DlpFlag, DlpPolicy, SensitiveDataRule
from records.dlp.policy import policy_for
from tenants.models import Agency
from tenants.permissions import Perm, Role, role_has_perm
from tenants.scoping import agency_scope

DLP_RULE_CHANGED = types.DLP_RULE_CHANGED


def create_rule(
    *,
    agency: Agency,
    actor: Actor,
    name: str,
    pattern: str = "",
    keywords: Sequence[str] = (),
    action: str = SensitiveDataRule.Action.FLAG,
    direction: str = SensitiveDataRule.Direction.BOTH,
) -> SensitiveDataRule:
    """A new rule: a regex (``pattern``) or ``keywords``, not both. ``ValidationError``
    names the field and, for a refused pattern, why."""
    if bool(pattern) == bool(keywords):
        raise ValidationError("Give either a pattern or keywords.")
    words = [w.strip() for w in keywords if w.strip()]
    try:
        compile_rule(name, pattern=pattern, keywords=words)
    except UnsafePattern as exc:
        raise ValidationError({"pattern": str(exc)}) from exc
    kind = SensitiveDataRule.Kind.REGEX if pattern else SensitiveDataRule.Kind.KEYWORDS
    rule = SensitiveDataRule(
        agency=agency,
        name=name.strip(),
        kind=kind,
        pattern=pattern,
        keywords="\n".join(words),
        action=action,
        direction=direction,
    )
    with agency_scope(agency), transaction.atomic():
        rule.full_clean()
        rule.save()
        _changed(rule, actor, "dlp_rule.created")
    return rule


def set_rule_enabled(*, rule: SensitiveDataRule, actor: Actor, enabled: bool) -> None:
    with agency_scope(rule.agency_id), transaction.atomic():
        SensitiveDataRule.objects.filter(pk=rule.pk).update(enabled=enabled)
        DlpPolicy.rules_changed(rule.agency_id)  # the compiled rules' cache key
        rule.enabled = enabled
        _changed(rule, actor, "dlp_rule.enabled" if enabled else "dlp_rule.disabled")


def _changed(rule: SensitiveDataRule, actor: Actor, action: str) -> None:
    # The rule's pattern is the agency's configuration, not a citizen's data: audited as is.
    record_event(
        agency_id=rule.agency_id,
        actor=actor,
        action=action,
        target=rule,
        changes={"name": rule.name, "kind": rule.kind, "action": rule.action},
    )
    events.publish(
        agency_id=rule.agency_id,
        type=DLP_RULE_CHANGED,
        subject={"dlp_rule": rule.pk},
        payload={"enabled": rule.enabled, "action": rule.action},
    )


# --- the policy ---------------------------------------------------------------------------------

DLP_POLICY_CHANGED = types.DLP_POLICY_CHANGED
POLICY_FIELDS = (
    "outbound_block",
    "outbound_kinds",
    "override_roles",
    "inbound_flag",
    "inbound_mask",
    "reveal_roles",
    "phi_hints",
    "auto_reply_enabled",
    "auto_reply_text",
    "auto_reply_hours",
)


def override_role_choices() -> list[tuple[str, str]]:
    """Roles that can send at all (reply), hence may be allowed to override a block."""
    return [(r.value, r.label) for r in Role if role_has_perm(r.value, Perm.REPLY)]


def reveal_role_choices() -> list[tuple[str, str]]:
    """Roles that read the inbox, hence may be allowed to reveal masked data."""
    return [(r.value, r.label) for r in Role if role_has_perm(r.value, Perm.VIEW_INBOX)]


def _policy_errors(values: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not set(values["outbound_kinds"]) <= set(BUILT_IN_KINDS):
        errors["outbound_kinds"] = "Choose among the listed kinds of data."
    if not set(values["override_roles"]) <= {v for v, _ in override_role_choices()}:
        errors["override_roles"] = "Choose among the roles that can send messages."
    if not set(values["reveal_roles"]) <= {v for v, _ in reveal_role_choices()}:
        errors["reveal_roles"] = "Choose among the roles that read the inbox."
    text = values["auto_reply_text"].strip()
    if values["auto_reply_enabled"] and not text:
        errors["auto_reply_text"] = "Write the automatic reply, or switch it off."
    elif len(text) > AUTO_REPLY_MAX:
        errors["auto_reply_text"] = f"Keep the reply to {AUTO_REPLY_MAX:,} characters."
    elif find_sensitive(text):
        errors["auto_reply_text"] = (
            "The reply itself contains a number that looks like sensitive data; remove it."
        )
    hours = values["auto_reply_hours"]
    if not isinstance(hours, int) or not 1 <= hours <= 720:
        errors["auto_reply_hours"] = "Give a number of hours from 1 to 720 (30 days)."
    return errors


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, list) and isinstance(new, list):
        return set(old) == set(new)  # the lists are sets of choices
    return bool(old == new)


def update_policy(
    *, agency: Agency, actor: Actor, user_id: int | None = None, **fields: Any
) -> DlpPolicy:
    """Change the agency's policy (only ``POLICY_FIELDS``); the row is created on its first
    change. ``ValidationError`` names the field. Audited (the fields that changed, old and
    new) and published in the transaction that saves it."""
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown policy fields: {', '.join(sorted(unknown))}.")
    with agency_scope(agency), transaction.atomic():
        policy, _ = DlpPolicy.objects.select_for_update().get_or_create(agency_id=agency.pk)
        values = {name: getattr(policy, name) for name in POLICY_FIELDS}
        values.update(fields)
        for name in ("outbound_kinds", "override_roles", "reveal_roles"):
            values[name] = sorted(set(values[name]))
        values["auto_reply_text"] = str(values["auto_reply_text"]).strip()
        errors = _policy_errors(values)
        if errors:
            raise ValidationError(errors)
        changes = {
            name: {"from": getattr(policy, name), "to": value}
            for name, value in values.items()
            if not _same(getattr(policy, name), value)
        }
        if not changes:
            return policy
        for name, value in values.items():
            setattr(policy, name, value)
        policy.updated_by_id = user_id
        policy.save()
        record_event(
            agency_id=agency.pk,
            actor=actor,
            action="dlp_policy.changed",
            target=policy,
            changes=changes,
        )
        events.publish(
            agency_id=agency.pk,
            type=DLP_POLICY_CHANGED,
            subject={"dlp_policy": policy.pk},
            payload={"changed": sorted(changes)},
        )
    return policy


# --- revealing masked data ------------------------------------------------------------------------


class RevealRefused(PermissionDenied):
    """The viewer's role may not reveal masked data under the agency's policy."""


def may_reveal(agency: Agency, role: str | None) -> bool:
    return bool(role) and role in (policy_for(agency).reveal_roles or [])


def reveal(*, agency: Agency, actor: Actor, role: str | None, message: Any) -> list[str]:
    """Allow ``role`` to see ``message`` unmasked, once: audited (``dlp.revealed``, the kinds
    only). The kinds that were masked; ``RevealRefused`` when the role may not."""
    if not may_reveal(agency, role):
        raise RevealRefused("Your role cannot reveal masked sensitive data in this agency.")
    flag = DlpFlag.objects.filter(message_id=message.pk).first()
    kinds = list(flag.kinds) if flag is not None else []
    with agency_scope(agency), transaction.atomic():
        record_event(
            agency_id=agency.pk,
            actor=actor,
            action="dlp.revealed",
            target=message,
            changes={"kinds": kinds, "role": role, "conversation": message.conversation_id},
        )
    return kinds
