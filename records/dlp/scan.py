"""The scan of one message's text: the built-in detectors, the agency's enabled rules for
that direction, and optionally PHI hints. Returns matches (kind, offsets, score, rule),
never the matched values: callers that store or publish findings keep offsets only."""

from __future__ import annotations

from dataclasses import dataclass

from bsp.sensitive_data import CustomRule, Match, UnsafePattern, compile_rule, find_sensitive
from bsp.sensitive_data import phi_hints as find_phi_hints
from records.dlp.models import SensitiveDataRule

DETECTOR_VERSION = "1"  # kept with stored findings: a later detector may find more


@dataclass(frozen=True)
class Finding:
    match: Match
    action: str  # the rule's action; built-in detectors flag


def rules_for(agency_id: int, direction: str) -> list[tuple[CustomRule, str]]:
    """The agency's enabled rules for ``direction`` ("in" or "out"), compiled, with their
    action. A rule refused since it was saved (stricter checks) is skipped."""
    rows = SensitiveDataRule.objects.filter(
        agency_id=agency_id, enabled=True, direction__in=[direction, "both"]
    ).order_by("pk")
    compiled = []
    for row in rows:
        try:
            rule = compile_rule(row.name, pattern=row.pattern, keywords=row.keyword_list)
        except UnsafePattern:
            continue
        compiled.append((rule, row.action))
    return compiled


def scan(text: str, *, agency_id: int, direction: str, phi_hints: bool = False) -> list[Finding]:
    rules = rules_for(agency_id, direction)
    actions = {rule.name: action for rule, action in rules}
    findings = [
        Finding(m, actions.get(m.rule, SensitiveDataRule.Action.FLAG))
        for m in find_sensitive(text, rules=[rule for rule, _ in rules])
    ]
    if phi_hints:
        findings += [Finding(m, SensitiveDataRule.Action.FLAG) for m in find_phi_hints(text)]
    return sorted(findings, key=lambda f: f.match.start)
