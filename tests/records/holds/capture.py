"""The real capture path for tests: a webhook change handled as the webhook worker does."""

from __future__ import annotations

import time

from django.db import transaction

from messaging.models import Message
from messaging.webhooks import inbound
from messaging.webhooks.changes import Change, Route
from tenants.scoping import agency_scope
from tests.messaging.webhooks.payloads import contact, inbound_text, messages_change


def receive(number, wa_id: str, body: str, *, timestamp: int | None = None) -> Message:
    """A citizen's text to ``number``, captured by the webhook path; the stored row."""
    message = inbound_text(wa_id, body, timestamp=timestamp or int(time.time()))
    value = messages_change(
        number.phone_number_id, messages=[message], contacts=[contact(wa_id, "Ana")]
    )["value"]
    route = Route(number.agency_id, number.waba_id, number.waba.waba_id, number.pk, "")
    with agency_scope(number.agency_id), transaction.atomic():
        inbound.handle_messages(Change(0, "messages", value, route, None))
    with agency_scope(number.agency_id):
        return Message.objects.get(wamid=message["id"])
