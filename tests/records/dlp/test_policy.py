"""The agency's DLP policy (issue 12 §8): defaults without a row, changes checked, audited
and published, the page for agency admins (/records/dlp/) with its rules, hostile input
refused in words."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from records.dlp import services
from records.dlp.models import DlpPolicy, SensitiveDataRule
from records.dlp.policy import policy_for
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.frontend.conftest import enroll_totp
from tests.records.dlp.conftest import ADMIN, SSN, audits_of, events_of

PAGE = "/records/dlp/"


@pytest.fixture
def admin_client(member) -> Client:
    admin = member(Role.AGENCY_ADMIN)
    enroll_totp(admin.user)
    client = Client()
    client.force_login(admin.user)
    return client


def form(**changes) -> dict:
    data = {
        "outbound_block": "on",
        "outbound_kinds": ["ssn", "itin", "card_number", "bank_routing_number"],
        "override_roles": ["agency_admin", "supervisor"],
        "inbound_flag": "on",
        "inbound_mask": "on",
        "reveal_roles": ["agency_admin", "records_officer"],
        "auto_reply_text": "Please do not send such numbers here.",
        "auto_reply_hours": "24",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_an_agency_without_a_policy_row_has_the_documented_defaults(agency_a):
    with agency_scope(agency_a):
        policy = policy_for(agency_a)
    assert policy.pk is None
    assert policy.outbound_block and policy.inbound_flag and policy.inbound_mask
    assert policy.outbound_kinds == ["ssn", "itin", "card_number", "bank_routing_number"]
    assert policy.override_roles == ["agency_admin", "supervisor"]
    assert policy.reveal_roles == ["agency_admin", "records_officer"]
    assert not policy.auto_reply_enabled and not policy.phi_hints
    assert policy.auto_reply_hours == 24


def test_a_change_is_saved_audited_with_old_and_new_and_published(agency_a):
    services.update_policy(agency=agency_a, actor=ADMIN, inbound_mask=False, auto_reply_hours=6)
    with agency_scope(agency_a):
        policy = DlpPolicy.objects.get()
    assert (policy.inbound_mask, policy.auto_reply_hours) == (False, 6)
    [audit] = audits_of(agency_a, "dlp_policy.changed")
    assert audit.changes == {
        "inbound_mask": {"from": True, "to": False},
        "auto_reply_hours": {"from": 24, "to": 6},
    }
    [event] = events_of(agency_a, services.DLP_POLICY_CHANGED)
    assert event.payload == {"changed": ["auto_reply_hours", "inbound_mask"]}


def test_saving_the_same_values_records_nothing(agency_a):
    services.update_policy(agency=agency_a, actor=ADMIN, inbound_mask=True)
    assert audits_of(agency_a, "dlp_policy.changed") == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"override_roles": ["integrator"]}, "override_roles"),
        ({"reveal_roles": ["integrator"]}, "reveal_roles"),
        ({"outbound_kinds": ["phi_hint"]}, "outbound_kinds"),
        ({"auto_reply_enabled": True, "auto_reply_text": "  "}, "auto_reply_text"),
        ({"auto_reply_text": f"call us, ref {SSN}"}, "auto_reply_text"),
        ({"auto_reply_hours": 0}, "auto_reply_hours"),
        ({"auto_reply_hours": 10_000}, "auto_reply_hours"),
    ],
)
def test_a_refused_value_names_its_field_and_changes_nothing(agency_a, fields, field):
    with pytest.raises(ValidationError) as refused:
        services.update_policy(agency=agency_a, actor=ADMIN, **fields)
    assert field in refused.value.message_dict
    with agency_scope(agency_a):
        assert not DlpPolicy.objects.filter(auto_reply_hours__in=[0, 10_000]).exists()


def test_every_rule_change_moves_the_rules_version(agency_a):
    rule = services.create_rule(agency=agency_a, actor=ADMIN, name="R", keywords=["x"])
    with agency_scope(agency_a):
        first = DlpPolicy.objects.get().rules_version
    services.set_rule_enabled(rule=rule, actor=ADMIN, enabled=False)
    with agency_scope(agency_a):
        assert DlpPolicy.objects.get().rules_version == first + 1


def test_the_page_shows_the_policy_and_the_rules(admin_client, agency_a):
    services.create_rule(agency=agency_a, actor=ADMIN, name="Case numbers", pattern=r"CASE-\d+")
    response = admin_client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Sensitive data policy</h1>" in html
    assert "Case numbers" in html and "CASE-\\d+" in html
    assert "This agency uses the defaults" not in html  # a rule made the row


def test_an_admin_saves_the_policy_from_the_page(admin_client, agency_a):
    response = admin_client.post(
        PAGE, form(auto_reply_enabled="on", override_roles=["agency_admin"], inbound_mask=None)
    )
    assert response.status_code == 302
    with agency_scope(agency_a):
        policy = DlpPolicy.objects.get()
    assert policy.auto_reply_enabled and not policy.inbound_mask
    assert policy.override_roles == ["agency_admin"]


def test_a_refused_value_is_shown_next_to_its_field(admin_client):
    response = admin_client.post(PAGE, form(auto_reply_text=f"ref {SSN}"))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_auto_reply_text_error"' in html
    assert "looks like sensitive data" in html


def test_hostile_values_are_refused_without_a_server_error(admin_client):
    for data in (
        form(auto_reply_hours="9" * 400),
        form(auto_reply_text="\x00" * 10_000),
        form(override_roles=["<script>", "agency_admin"]),
        form(outbound_kinds=["x" * 5000]),
        {"auto_reply_hours": "-1"},
    ):
        assert admin_client.post(PAGE, data).status_code in (302, 400)


def test_an_admin_adds_a_rule_and_a_catastrophic_pattern_is_refused_with_the_reason(
    admin_client, agency_a
):
    refused = admin_client.post(
        reverse("records_dlp:add_rule"),
        {"name": "Bad", "pattern": r"(\w+\s?)+$", "action": "flag", "direction": "both"},
    )
    assert refused.status_code == 400
    assert "another repetition" in refused.content.decode()
    added = admin_client.post(
        reverse("records_dlp:add_rule"),
        {"name": "Informant", "keywords": "blue falcon\n", "action": "mask", "direction": "in"},
    )
    assert added.status_code == 302
    with agency_scope(agency_a):
        rule = SensitiveDataRule.objects.get()
    assert (rule.name, rule.keyword_list, rule.action) == ("Informant", ["blue falcon"], "mask")
    admin_client.post(reverse("records_dlp:toggle_rule", args=[rule.pk]), {"enabled": "0"})
    with agency_scope(agency_a):
        assert not SensitiveDataRule.objects.get().enabled


def test_a_rule_needs_a_pattern_or_keywords_on_the_page(admin_client):
    response = admin_client.post(
        reverse("records_dlp:add_rule"), {"name": "Empty", "action": "flag", "direction": "both"}
    )
    assert response.status_code == 400
    assert "either a regular expression or keywords" in response.content.decode()


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR, Role.RECORDS_OFFICER])
def test_only_agency_admins_reach_the_page(member, role):
    membership = member(role)
    if role == Role.RECORDS_OFFICER:
        enroll_totp(membership.user)
    client = Client()
    client.force_login(membership.user)
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, form()).status_code == 403
