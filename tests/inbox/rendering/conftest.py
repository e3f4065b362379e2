"""A member of agency A, signed in; media stored under a temporary MEDIA_ROOT."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.test import Client

from inbox.rendering import thread_items
from messaging.models import Conversation, Message
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import ConversationFactory, MembershipFactory, UserFactory


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def conversation(agency_a) -> Conversation:
    return ConversationFactory(agency=agency_a, contact__profile_name="Ana Souza")


@pytest.fixture
def agent(agency_a):
    user = UserFactory(first_name="Jane", last_name="Doe")
    return MembershipFactory(agency=agency_a, user=user, role=Role.AGENT)


@pytest.fixture
def member_client(agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


@pytest.fixture
def render(agency_a):
    """The HTML of one message (``render(message)``) or a thread (``render(*messages)``)."""

    def html(*messages: Message) -> str:
        with agency_scope(agency_a):
            views = thread_items(list(messages))
            return render_to_string("inbox/messages/thread.html", {"views": views})

    return html
