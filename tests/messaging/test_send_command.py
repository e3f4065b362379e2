"""The operators' send_message command: same path, same rules."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from messaging.models import Message
from tenants.scoping import agency_scope
from tests.messaging.conftest import CITIZEN


def test_the_command_queues_a_reply_inside_the_window(agency_a, open_conversation, capsys):
    call_command("send_message", "--agency", "agency-a", "--to", f"+{CITIZEN}", "--text", "Hi")
    assert "Queued message" in capsys.readouterr().out
    with agency_scope(agency_a):
        assert Message.objects.get().status == "queued"


def test_the_command_reports_the_rule_a_refused_send_broke(agency_a, number, citizen):
    with pytest.raises(CommandError, match=r"Refused \(window_closed\)"):
        call_command("send_message", "--agency", "agency-a", "--to", CITIZEN, "--text", "Hi")
