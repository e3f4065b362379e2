"""The Django admin shows why a held record cannot be deleted (its standard "cannot
delete" page, naming the matter) instead of failing on the database's refusal."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory

from messaging.models import Conversation, Message
from records.holds.admin import HeldRecordAdminMixin
from records.holds.services import place_hold
from records.selection import Selection
from tenants.scoping import agency_scope
from tests.records.holds.helpers import OFFICER, conversation, say

pytestmark = pytest.mark.django_db


class MessageAdmin(HeldRecordAdminMixin, admin.ModelAdmin):
    pass


class ConversationAdmin(HeldRecordAdminMixin, admin.ModelAdmin):
    pass


def test_a_held_message_is_listed_as_protected_with_its_matter(agency_a, operator):
    chat = conversation(agency_a)
    message = say(chat)
    free = say(conversation(agency_a))
    place_hold(
        agency_a.pk,
        matter_id="LIT-7",
        reason="x",
        owner_id=None,
        selection=Selection(conversation_id=chat.pk),
        actor=OFFICER,
    )
    request = RequestFactory().post("/admin/")
    request.user = operator
    with agency_scope(agency_a):
        site = MessageAdmin(Message, admin.site)
        *_, protected = site.get_deleted_objects([message], request)
        assert protected == [
            f"Message {message.pk} is under legal hold (matter LIT-7): it cannot be deleted "
            "until the hold is released."
        ]
        assert site.get_deleted_objects([free], request)[3] == []
        conversations = ConversationAdmin(Conversation, admin.site)
        protected = conversations.get_deleted_objects([chat], request)[3]
        assert any("Conversation" in str(p) and "LIT-7" in str(p) for p in protected)
