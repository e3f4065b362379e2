"""List endpoints page by opaque cursor (newest first); timestamps are ISO-8601 with offset."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse

from records.audit import record_event
from tests.api.helpers import ACTOR, bearer, make_key


def test_lists_page_by_cursor_with_iso_8601_timestamps(client, agency_a, monkeypatch):
    from tenants.api.views import ById

    monkeypatch.setattr(ById, "page_size", 2)  # PAGE_SIZE (50) is read when classes are made
    for n in range(3):
        record_event(agency_id=agency_a.pk, actor=ACTOR, action=f"test.{n}")
    _, raw = make_key(agency_a, "audit:read")
    first = client.get(reverse("api-audit-events"), **bearer(raw)).json()
    assert set(first) == {"next", "previous", "results"}
    assert "cursor=" in first["next"]
    second = client.get(first["next"], **bearer(raw)).json()
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == len(ids) >= 3
    stamp = first["results"][0]["created_at"]
    assert datetime.fromisoformat(stamp.replace("Z", "+00:00")).tzinfo is not None


def test_a_forged_cursor_is_a_400_invalid_cursor_problem_not_500(client, agency_a):
    _, raw = make_key(agency_a, "audit:read")
    response = client.get(reverse("api-audit-events") + "?cursor=%%%garbage", **bearer(raw))
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_cursor"


def test_a_path_no_view_matches_is_a_404_problem_not_an_html_page(client, agency_a):
    _, raw = make_key(agency_a, "audit:read")
    response = client.get("/api/v1/audit-events/not-a-number/", **bearer(raw))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def test_outside_the_api_a_missing_page_is_still_the_sites_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
