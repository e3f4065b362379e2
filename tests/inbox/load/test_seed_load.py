"""seed_load: the benchmark's data, written as the app role under row-level security."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from inbox.models import ConversationLabel, Label, Team, TeamMember
from messaging.models import Contact, Conversation, Message
from tenants.models import Agency, Membership
from tenants.permissions import Role
from tenants.scoping import agency_scope

pytestmark = pytest.mark.django_db

TINY = ["--agencies", "2", "--conversations", "50", "--messages", "500"]
NOT_PRODUCTION = "--i-know-this-is-not-production"


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_load", *TINY, NOT_PRODUCTION, *args, stdout=out)
    return out.getvalue()


def raw_count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (a constant)
        return int(cursor.fetchone()[0])


def test_each_agency_gets_the_requested_conversations_and_messages():
    seed()

    for agency in Agency.objects.filter(slug__in=["load-1", "load-2"]):
        with agency_scope(agency):
            assert Contact.objects.count() == 50
            assert Conversation.objects.count() == 50
            assert Message.objects.count() == 500
            assert Team.objects.count() == 4
            assert Label.objects.count() == 12
            assert TeamMember.objects.count() == 20
            assert Membership.objects.filter(role=Role.AGENT).count() == 20


def test_each_agency_sees_only_its_own_rows_even_in_raw_sql():
    seed()
    first, second = Agency.objects.filter(slug__in=["load-1", "load-2"]).order_by("slug")

    with agency_scope(first):
        assert raw_count("messaging_message") == 500
        assert raw_count("messaging_conversation") == 50
        own = set(Conversation.objects.values_list("pk", flat=True))
        threads = set(Message.objects.values_list("conversation_id", flat=True))
    with agency_scope(second):
        assert raw_count("messaging_message") == 500
        assert not own & set(Conversation.objects.values_list("pk", flat=True))
    assert threads <= own


def test_the_workflow_fields_have_realistic_values():
    seed("--conversations", "400", "--messages", "4000", "--agencies", "1")
    agency = Agency.objects.get(slug="load-1")

    with agency_scope(agency):
        open_ones = Conversation.objects.filter(status="open")
        assert 0 < open_ones.count() < 100
        assert Conversation.objects.filter(status="resolved").count() > 250
        assert not open_ones.filter(waiting_since__isnull=True).exists()
        assert not open_ones.filter(unread_count=0).exists()
        assert not Conversation.objects.filter(last_preview="").exists()
        assert 40 < ConversationLabel.objects.count() < 160
        assert Message.objects.filter(direction="in").exists()
        assert Message.objects.filter(direction="out", sender_user__isnull=False).exists()


def test_a_big_enough_budget_makes_threads_of_five_hundred_messages():
    seed("--agencies", "1", "--conversations", "20", "--messages", "1300", "--long-threads", "2")

    with agency_scope(Agency.objects.get(slug="load-1")):
        longest = Contact.objects.filter(attributes__seed_load="long_thread")
        assert longest.count() == 2
        for contact in longest:
            assert 500 <= Message.objects.filter(contact=contact).count() <= 600


def test_a_second_run_is_refused_without_reset():
    seed()

    with pytest.raises(CommandError, match="Already seeded: load-1, load-2"):
        seed()


def test_reset_seeds_the_agencies_again_with_the_same_counts():
    seed()

    output = seed("--reset")

    assert "deleted 500 Message" in output
    for agency in Agency.objects.filter(slug__in=["load-1", "load-2"]):
        with agency_scope(agency):
            assert Message.objects.count() == 500
            assert Conversation.objects.count() == 50


def test_it_refuses_to_run_in_production_without_the_flag():
    with override_settings(DEBUG=False, DEMO=False), pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_load", *TINY, stdout=io.StringIO())

    assert not Agency.objects.filter(slug="load-1").exists()
