"""Thin Celery tasks of the inbox: they take ids and call services."""

from __future__ import annotations

import logging

from celery import shared_task

from inbox import services
from messaging.models import Message
from tenants.models import Agency
from tenants.scoping import agency_scope, agency_task, system_scope

logger = logging.getLogger(__name__)


@shared_task(name="inbox.mark_read_on_whatsapp", ignore_result=True)
@agency_task
def mark_read_on_whatsapp(*, message_id: int, agency_id: int) -> None:
    """Blue ticks for the citizen: best effort (a failure only loses the ticks)."""
    message = Message.objects.select_related("phone_number").filter(pk=message_id).first()
    if message is None or not message.wamid:
        return
    services.send_read_receipt(message)


@shared_task(name="inbox.wake_snoozed", ignore_result=True)
def wake_snoozed() -> int:
    """Beat: reopen conversations whose snooze time has come, agency by agency."""
    woken = 0
    with system_scope():
        agency_ids = list(Agency.objects.values_list("pk", flat=True))
    for agency_id in agency_ids:
        with agency_scope(agency_id):
            woken += services.wake_snoozed()
    return woken


@shared_task(name="inbox.show_typing_on_whatsapp", ignore_result=True)
@agency_task
def show_typing_on_whatsapp(*, message_id: int, agency_id: int) -> None:
    message = Message.objects.select_related("phone_number").filter(pk=message_id).first()
    if message is not None:
        services.send_read_receipt(message, typing=True)
