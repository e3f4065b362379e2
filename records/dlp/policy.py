"""The agency's DLP policy as the send and receive paths read it: ``policy_for(agency)``
(the row, or the defaults when the agency never saved one) and ``Engine``, the policy with
the agency's compiled rules, built once and used for many texts (a send, a webhook change,
a campaign chunk, a thread page).

Cost: the policy is one row (joined to the agency where the caller loads the agency anyway,
``Agency.objects.select_related("dlp_policy")``); the rules are compiled once per process
and rules version (``DlpPolicy.rules_version``, bumped by every rule change), so the hot
paths make no query for them. An agency without a policy row has no rules to apply (every
rule change creates the row).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist

from bsp.sensitive_data import (
    CUSTOM,
    KIND_LABELS,
    CustomRule,
    Match,
    UnsafePattern,
    compile_rule,
    find_sensitive,
)
from bsp.sensitive_data import phi_hints as find_phi_hints
from records.dlp.models import DlpPolicy, SensitiveDataRule
from tenants.models import Agency

DETECTOR_VERSION = "1"  # kept with stored findings: a later detector may find more
_CACHE_SIZE = 512
# No built-in detector matches fewer than nine digits (with optional separators): a text
# without such a run is skipped in one cheap pass (most messages).
_DIGIT_RUN = re.compile(r"\d(?:[ -]?\d){8}")
ANY = "any"  # an engine for views: the rules of both directions
# The keys of a stored message's content whose strings are what a person reads.
_TEXT_KEYS = frozenset(
    {"body", "text", "caption", "title", "description", "footer", "address", "filename", "name"}
)
# Keys whose strings are identifiers or settings, never read as text.
_SKIP_KEYS = frozenset({"id", "link", "language", "code", "url", "mime_type", "sha256", "policy"})
_MAX_DEPTH = 8
_MAX_TEXTS = 200


def texts_of(content: object) -> list[tuple[str, str]]:
    """The readable strings of a stored message's content (``{"type": t, t: {...}}``), each
    with its path ("text.body", "image.caption", "template.components.0.parameters.1.text"):
    what the detectors look at. A template's name and language are not text; its values
    are. Bounded in depth and count: content is partly a citizen's."""
    found: list[tuple[str, str]] = []

    def walk(value: object, path: str, key: str, depth: int) -> None:
        if depth > _MAX_DEPTH or len(found) >= _MAX_TEXTS:
            return
        if isinstance(value, str):
            if key in _TEXT_KEYS and path != "template.name":
                found.append((path, value))
        elif isinstance(value, dict):
            for k, v in value.items():
                if isinstance(k, str) and k not in _SKIP_KEYS:
                    walk(v, f"{path}.{k}" if path else k, k, depth + 1)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}.{i}", key, depth + 1)

    walk(content, "", "", 0)
    return found


def policy_for(agency: Agency | int, *, joined: bool = False) -> DlpPolicy:
    """The agency's policy row, or an unsaved one with the defaults. ``joined``: ``agency``
    was loaded with ``select_related("dlp_policy")`` just now (the webhook worker, once per
    change): its row is used, no query. Otherwise read fresh (one query): an Agency
    object may live longer than a policy change."""
    if joined and isinstance(agency, Agency):
        try:
            found_row: DlpPolicy = agency.dlp_policy  # type: ignore[attr-defined, unused-ignore]  # reverse 1:1 (the stubs see it only sometimes)
            return found_row
        except ObjectDoesNotExist:
            return DlpPolicy(agency_id=agency.pk)
    agency_id = agency.pk if isinstance(agency, Agency) else agency
    found = DlpPolicy.objects.filter(agency_id=agency_id).first()
    return found if found is not None else DlpPolicy(agency_id=agency_id)


@dataclass(frozen=True)
class _Rule:
    compiled: CustomRule
    action: str
    direction: str


_compiled: OrderedDict[tuple[int, int], tuple[_Rule, ...]] = OrderedDict()
_lock = threading.Lock()


def _rules(policy: DlpPolicy) -> tuple[_Rule, ...]:
    """The agency's enabled rules, compiled, from the process cache by rules version."""
    if policy.pk is None or not policy.rules_version:
        return ()
    key = (policy.agency_id, policy.rules_version)
    with _lock:
        found = _compiled.get(key)
        if found is not None:
            _compiled.move_to_end(key)
            return found
    rows = SensitiveDataRule.objects.filter(agency_id=policy.agency_id, enabled=True).order_by("pk")
    compiled = []
    for row in rows:
        try:
            rule = compile_rule(row.name, pattern=row.pattern, keywords=row.keyword_list)
        except UnsafePattern:
            continue  # refused since it was saved (stricter checks): never applied
        compiled.append(_Rule(rule, row.action, row.direction))
    result = tuple(compiled)
    with _lock:
        _compiled[key] = result
        while len(_compiled) > _CACHE_SIZE:
            _compiled.popitem(last=False)
    return result


def clear_cache() -> None:
    with _lock:
        _compiled.clear()


@dataclass(frozen=True)
class Finding:
    """One match in one field of a message: where, what, and what the rule says to do."""

    field: str  # "text.body", "image.caption", "template.body.1", "value:name"…
    kind: str
    start: int
    end: int
    score: float
    rule: str  # a custom rule's name, a PHI hint's name, or ""
    action: str  # flag, mask, block

    @property
    def label(self) -> str:
        return Match(self.kind, self.start, self.end, self.score, self.rule).label

    def as_json(self) -> dict[str, object]:
        return {
            "field": self.field,
            "kind": self.kind,
            "rule": self.rule,
            "start": self.start,
            "end": self.end,
            "score": self.score,
            "action": self.action,
        }


def kinds_of(findings: Iterable[Finding]) -> list[str]:
    return sorted({f.kind for f in findings})


def describe(findings: Sequence[Finding]) -> str:
    """ "a US Social Security number and a payment card number": what was found, in words,
    never the values."""
    labels: list[str] = []
    for finding in findings:
        if finding.label not in labels:
            labels.append(finding.label)
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " and " + labels[-1]


class Engine:
    """The policy and the compiled rules of one agency, for one direction."""

    def __init__(self, policy: DlpPolicy, direction: str) -> None:
        self.policy = policy
        self.direction = direction
        self.rules = tuple(
            r for r in _rules(policy) if direction == ANY or r.direction in (direction, "both")
        )
        self._custom = [r.compiled for r in self.rules]
        self._actions = {r.compiled.name: r.action for r in self.rules}
        self.phi = bool(policy.phi_hints) and direction == "in"

    @classmethod
    def for_agency(cls, agency: Agency | int, direction: str) -> Engine:
        return cls(policy_for(agency), direction)

    def find(self, field: str, text: str) -> list[Finding]:
        """The findings in one text: built-in detectors, the agency's rules (and PHI hints
        inbound when the policy asks), never overlapping."""
        if not text or not isinstance(text, str):
            return []
        matches: list[Match] = []
        if self._custom or _DIGIT_RUN.search(text):
            matches = find_sensitive(text, rules=self._custom)
        found = [
            Finding(
                field,
                m.kind,
                m.start,
                m.end,
                m.score,
                m.rule,
                self._actions.get(m.rule, "flag") if m.kind == CUSTOM else "flag",
            )
            for m in matches
        ]
        if self.phi:
            found += [
                Finding(field, m.kind, m.start, m.end, m.score, m.rule, "flag")
                for m in find_phi_hints(text)
            ]
        return found

    def find_all(self, texts: Iterable[tuple[str, str]]) -> list[Finding]:
        found: list[Finding] = []
        for field, text in texts:
            found += self.find(field, text)
        return found

    # --- outbound --------------------------------------------------------------------------

    def blocks(self, finding: Finding) -> bool:
        """Whether ``finding`` stops an outbound message under this policy."""
        if not self.policy.outbound_block:
            return False
        if finding.kind == CUSTOM:
            return finding.action == SensitiveDataRule.Action.BLOCK
        return finding.kind in (self.policy.outbound_kinds or [])

    def may_override(self, role: str | None) -> bool:
        return bool(role) and role in (self.policy.override_roles or [])

    # --- inbound ---------------------------------------------------------------------------

    def masks(self, finding: Finding) -> bool:
        """Whether the inbox hides ``finding`` (validated numbers; the agency's mask and
        block rules; PHI hints are only flagged)."""
        if not self.policy.inbound_mask:
            return False
        if finding.kind == CUSTOM:
            return finding.action in (
                SensitiveDataRule.Action.MASK,
                SensitiveDataRule.Action.BLOCK,
            )
        return finding.kind in KIND_LABELS and finding.kind != "phi_hint"
