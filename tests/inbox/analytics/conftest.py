"""A scripted inbox for the analytics: citizens write in through real signed webhooks, staff
answer (an outbound row and its ``message.queued``, as the send service publishes it),
Meta's status webhooks move the replies, supervisors assign and resolve through
``inbox.services``; ``dispatch()`` then runs the dispatcher as the events worker does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import transaction

from bsp import events
from bsp.events import dispatch as dispatcher
from bsp.events import types
from inbox import services as inbox_services
from inbox.analytics.models import ConversationFact, DailyStat
from inbox.models import Team
from messaging.models import Contact, Conversation, Message
from records.audit import Actor
from tenants.models import Agency, Membership, PhoneNumber
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import InboundMessageFactory, MembershipFactory
from tests.messaging.webhooks.conftest import (  # noqa: F401  (fixtures used here too)
    _fresh_caches,
    ingest,
    wa_number,
)
from tests.messaging.webhooks.payloads import (
    contact,
    envelope,
    inbound_text,
    messages_change,
    status,
)


@pytest.fixture
def supervisor_a(agency_a) -> Membership:
    return MembershipFactory(agency=agency_a, role=Role.SUPERVISOR)


@pytest.fixture
def agent_one(agency_a) -> Membership:
    return MembershipFactory(agency=agency_a, role=Role.AGENT, user__first_name="Ana")


@pytest.fixture
def agent_two(agency_a) -> Membership:
    return MembershipFactory(agency=agency_a, role=Role.AGENT, user__first_name="Ben")


@dataclass
class Inbox:
    """Agency A's inbox, acted on at chosen moments (time-machine)."""

    agency: Agency
    number: PhoneNumber
    ingest: Callable[[Any], Any]
    eager: bool = False  # dispatch after every action, as the events worker does

    def dispatch(self) -> int:
        return dispatcher.dispatch_pending()

    def _acted(self) -> None:
        if self.eager:
            self.dispatch()

    def citizen_writes(self, wa_id: str, at: datetime, text: str = "Hello") -> Conversation:
        """A signed webhook from ``wa_id``, processed as the worker does."""
        with time_machine.travel(at, tick=False):
            change = messages_change(
                self.number.phone_number_id,
                messages=[inbound_text(wa_id, text, timestamp=int(at.timestamp()))],
                contacts=[contact(wa_id, f"Citizen {wa_id[-4:]}")],
            )
            event = self.ingest(envelope(change))
            assert event.status == "processed", event.problems
        self._acted()
        with agency_scope(self.agency):
            return Conversation.objects.get(contact__wa_id=wa_id, phone_number=self.number)

    def staff_replies(
        self, conversation: Conversation, by: User | None, at: datetime, *, sender: str = "user"
    ) -> Message:
        """An outbound message queued by ``by`` (staff) or another sender, with the event
        the send service publishes; Meta has it as sent."""
        with time_machine.travel(at, tick=False), agency_scope(self.agency), transaction.atomic():
            row = InboundMessageFactory(
                agency=self.agency,
                conversation=conversation,
                direction=Message.Direction.OUTBOUND,
                status=Message.Status.SENT,
                sender_type=sender,
                sender_user=by,
                received_at=None,
            )
            events.publish(
                agency_id=self.agency.pk,
                type=types.MESSAGE_QUEUED,
                subject={
                    "message": row.pk,
                    "conversation": conversation.pk,
                    "contact": conversation.contact_id,
                    "phone_number": conversation.phone_number_id,
                },
                payload={
                    "type": "text",
                    "sender_type": sender,
                    "sender_user": by.pk if by else None,
                    "campaign": None,
                    "business_initiated": False,
                },
            )
        return row

    def meta_reports(self, message: Message, state: str, at: datetime) -> None:
        """Meta's status webhook for our message."""
        with agency_scope(self.agency):
            wa_id = Contact.objects.get(pk=message.contact_id).wa_id or ""
        with time_machine.travel(at, tick=False):
            change = messages_change(
                self.number.phone_number_id,
                statuses=[status(message.wamid, state, wa_id, timestamp=int(at.timestamp()))],
            )
            event = self.ingest(envelope(change))
            assert event.status == "processed", event.problems
        self._acted()

    def assign(
        self,
        conversation: Conversation,
        at: datetime,
        *,
        to: User | None = None,
        team: Team | bool | None = False,
    ) -> None:
        with time_machine.travel(at, tick=False), agency_scope(self.agency):
            row = Conversation.objects.get(pk=conversation.pk)
            inbox_services.assign(
                actor=Actor.system("test"), by=None, conversation=row, assignee=to, team=team
            )
        self._acted()

    def set_status(
        self, conversation: Conversation, state: str, at: datetime, until: datetime | None = None
    ) -> None:
        with time_machine.travel(at, tick=False), agency_scope(self.agency):
            row = Conversation.objects.get(pk=conversation.pk)
            inbox_services.set_status(
                actor=Actor.system("test"),
                by=None,
                conversation=row,
                status=state,
                snooze_until=until,
            )
        self._acted()

    def resolve(self, conversation: Conversation, at: datetime) -> None:
        self.set_status(conversation, Conversation.Status.RESOLVED, at)

    def facts(self) -> list[ConversationFact]:
        with agency_scope(self.agency):
            return list(ConversationFact.objects.order_by("conversation_id", "episode"))

    def stats(self) -> dict[tuple[str, int, int], dict[str, int]]:
        """Counter rows by (ISO day, team, agent), zero counters left out."""
        with agency_scope(self.agency):
            rows = DailyStat.objects.values()
            return {
                (row["day"].isoformat(), row["team_key"], row["agent_key"]): {
                    k: v
                    for k, v in row.items()
                    if k in ("messages_in", "messages_out", "delivered", "read", "failed") and v
                }
                for row in rows
            }


@pytest.fixture
def inbox(agency_a, wa_number, ingest) -> Inbox:  # noqa: F811  (fixtures imported above)
    return Inbox(agency_a, wa_number, ingest)
