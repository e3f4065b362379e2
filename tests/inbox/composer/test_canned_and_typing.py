"""Saved replies found by their shortcut, and the typing ping."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bsp.redis import redis_client
from tests.factories import AgencyFactory
from tests.inbox.composer.factories import CannedResponseFactory

pytestmark = pytest.mark.django_db


def _search(client, q):
    response = client.get(reverse("inbox:canned"), {"q": q})
    assert response.status_code == 200
    return [row["shortcut"] for row in response.json()["results"]]


def test_a_shortcut_finds_only_the_agencys_own_saved_replies(agent_client, agency_a):
    CannedResponseFactory(agency=agency_a, shortcut="hours", title="Opening hours")
    CannedResponseFactory(agency=agency_a, shortcut="holiday", title="Holiday closure")
    CannedResponseFactory(agency=agency_a, shortcut="permit", title="Permit hours")
    CannedResponseFactory(agency=AgencyFactory(), shortcut="hostile", title="Not ours")

    assert _search(agent_client, "/ho") == ["holiday", "hours", "permit"]
    assert _search(agent_client, "perm") == ["permit"]
    assert _search(agent_client, "") == ["holiday", "hours", "permit"]


def test_a_hostile_query_finds_nothing_and_breaks_nothing(agent_client, agency_a):
    CannedResponseFactory(agency=agency_a, shortcut="hours")

    assert _search(agent_client, "%' OR 1=1 --" + "x" * 10_000) == []
    assert _search(agent_client, "zz\x00") == []


def test_the_saved_reply_carries_its_body_for_insertion(agent_client, agency_a):
    CannedResponseFactory(agency=agency_a, shortcut="hours", body="We open at 9 🙂")

    (row,) = agent_client.get(reverse("inbox:canned"), {"q": "hours"}).json()["results"]

    assert row["body"] == "We open at 9 🙂"


def test_typing_shows_the_citizen_the_indicator_at_most_once_per_20_seconds(
    agent_client, open_conversation
):
    redis = redis_client()
    if redis is None:
        pytest.skip("needs Redis")
    key = f"civic:typing:{open_conversation.pk}"
    redis.delete(key)
    url = reverse("inbox:typing", args=[open_conversation.pk])

    assert agent_client.post(url).status_code == 204

    assert 0 < redis.ttl(key) <= 20  # inbox.services.show_typing asked WhatsApp; it waits now
    assert agent_client.get(url).status_code == 405
