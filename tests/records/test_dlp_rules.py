"""An agency's own sensitive-data rules (issue 12 §8): validated, audited and published when
saved; applied by the scan to that agency's messages only, for their direction."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from bsp.events.models import DomainEvent
from bsp.sensitive_data import CUSTOM, PHI_HINT, SSN
from records.audit import Actor
from records.dlp import scan, services
from records.dlp.models import SensitiveDataRule
from records.models import AuditEvent
from tenants.scoping import agency_scope

ADMIN = Actor.system("test-admin")


def kinds(text: str, agency, direction: str = "in", **kwargs) -> list[tuple[str, str, str]]:
    with agency_scope(agency):
        found = scan.scan(text, agency_id=agency.pk, direction=direction, **kwargs)
    return [(f.match.kind, f.match.rule, f.action) for f in found]


def test_a_regex_rule_is_saved_audited_published_and_applied(agency_a):
    rule = services.create_rule(
        agency=agency_a, actor=ADMIN, name="Case number", pattern=r"CASE-\d{6}", action="mask"
    )
    with agency_scope(agency_a):
        assert AuditEvent.objects.filter(action="dlp_rule.created", object_id=str(rule.pk))
        [event] = DomainEvent.objects.filter(type=services.DLP_RULE_CHANGED)
    assert event.subject == {"dlp_rule": rule.pk}
    assert kinds("about case-123456 and SSN 536-22-1234", agency_a) == [
        (CUSTOM, "Case number", "mask"),
        (SSN, "", "flag"),
    ]


def test_a_keyword_rule_matches_whole_words(agency_a):
    services.create_rule(
        agency=agency_a, actor=ADMIN, name="Informant", keywords=["confidential informant"]
    )
    assert kinds("the Confidential Informant called", agency_a) == [(CUSTOM, "Informant", "flag")]


def test_a_catastrophic_pattern_is_refused_with_the_reason_and_nothing_is_saved(agency_a):
    with pytest.raises(ValidationError) as refused:
        services.create_rule(agency=agency_a, actor=ADMIN, name="Bad", pattern=r"(\w+\s?)+$")
    assert "another repetition" in str(refused.value.message_dict["pattern"])
    with agency_scope(agency_a):
        assert not SensitiveDataRule.objects.exists()


def test_a_rule_needs_a_pattern_or_keywords_not_both(agency_a):
    with pytest.raises(ValidationError):
        services.create_rule(agency=agency_a, actor=ADMIN, name="Empty")
    with pytest.raises(ValidationError):
        services.create_rule(agency=agency_a, actor=ADMIN, name="Both", pattern="x", keywords=["y"])


def test_one_agencys_rules_never_apply_to_another_agency(agency_a, agency_b):
    services.create_rule(agency=agency_b, actor=ADMIN, name="B's codes", pattern=r"ZX\d{4}")
    assert kinds("code ZX1234", agency_a) == []
    assert kinds("code ZX1234", agency_b) == [(CUSTOM, "B's codes", "flag")]


def test_a_rule_applies_only_in_its_direction_and_while_enabled(agency_a):
    rule = services.create_rule(
        agency=agency_a,
        actor=ADMIN,
        name="Outbound",
        pattern=r"ZX\d{4}",
        direction="out",
        action="block",
    )
    assert kinds("ZX1234", agency_a, "in") == []
    assert kinds("ZX1234", agency_a, "out") == [(CUSTOM, "Outbound", "block")]
    services.set_rule_enabled(rule=rule, actor=ADMIN, enabled=False)
    assert kinds("ZX1234", agency_a, "out") == []


def test_phi_hints_come_only_when_asked_and_only_flag(agency_a):
    assert kinds("taking insulin", agency_a) == []
    assert kinds("taking insulin", agency_a, phi_hints=True) == [(PHI_HINT, "health_term", "flag")]
