"""Response headers: a strict Content-Security-Policy, a Permissions-Policy, and signed-in
pages kept out of every cache."""

from __future__ import annotations

import re
from pathlib import Path

from django.utils.cache import cc_delim_re  # type: ignore[attr-defined]  # not in django-stubs

from records.audit import Actor
from tenants import services

TEMPLATES = Path(__file__).resolve().parents[2] / "frontend" / "templates"


def _csp(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    directives = (part.strip().split() for part in policy.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def _cache_control(response) -> set[str]:
    return {d.strip().lower() for d in cc_delim_re.split(response.get("Cache-Control", ""))}


def test_pages_carry_a_content_security_policy_that_allows_only_own_scripts_and_styles(client, db):
    csp = _csp(client.get("/accounts/login/"))
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]


def test_the_product_404_page_carries_the_policy_too(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert _csp(response)["script-src"] == ["'self'"]


def test_the_api_docs_run_under_the_same_strict_policy(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    csp = _csp(response)
    assert (csp["script-src"], csp["style-src"]) == (["'self'"], ["'self'"])


def test_a_permissions_policy_denies_camera_microphone_location_and_payment(client, db):
    policy = client.get("/accounts/login/")["Permissions-Policy"]
    features = dict(item.strip().split("=", 1) for item in policy.split(","))
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert features[feature] == "()"


def test_pages_for_a_signed_in_member_are_never_stored(client_for, agent_a):
    client = client_for(agent_a)
    for path in ("/", "/members/", "/accounts/password/change/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in _cache_control(response), path


def test_api_responses_to_an_api_key_are_never_stored(client, agency_a):
    _, raw_key = services.create_api_credential(
        actor=Actor.system("test"), agency=agency_a, created_by=None, name="crm"
    )
    response = client.get("/api/v1/agency", HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert response.status_code == 200
    assert "no-store" in _cache_control(response)


def test_anonymous_responses_keep_their_own_caching(client, db):
    # Only what a signed-in user or an API client sees is forced to no-store.
    response = client.get("/healthz")
    assert "no-store" not in _cache_control(response)


def test_no_template_of_the_staff_ui_has_an_inline_script_style_or_event_handler():
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    inline_style = re.compile(r"<style\b|\sstyle=", re.IGNORECASE)
    event_handler = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {pattern.pattern}"
        for path in TEMPLATES.rglob("*.html")
        for pattern in (inline_script, inline_style, event_handler)
        if pattern.search(path.read_text())
    ]
    assert offenders == []
