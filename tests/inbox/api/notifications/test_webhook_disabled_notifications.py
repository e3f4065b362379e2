"""When the sender disables an integrator webhook that failed for 24 hours, every admin of
the agency finds it among their inbox notifications (from the stream's
``webhook_subscription.changed``, published by bsp.integrations' own sender)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bsp.events import dispatch
from bsp.integrations import services as integrations
from bsp.integrations.models import WebhookSubscription
from inbox.models import Notification
from records.audit import Actor
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import MembershipFactory
from tests.frontend.conftest import enroll_totp
from tests.integrations.conftest import flow, publish

pytestmark = pytest.mark.django_db(transaction=True)


def _notifications(agency) -> list[Notification]:
    with agency_scope(agency):
        return list(Notification.objects.order_by("user_id"))


def _fail_for_a_day(agency, sub, receiver) -> None:
    """Every delivery fails: the first failure, then the attempt 24 hours later that the
    sender gives up on (it disables the subscription), then the stream is dispatched."""
    receiver.plan = [500] * 100
    publish(agency, "consent.changed", {"contact": 1}, {})
    with time_machine.travel(timezone.now(), tick=False) as clock:
        flow(agency, sub, passes=1)
        clock.shift(timedelta(hours=24))
        flow(agency, sub, passes=1)
        while dispatch.dispatch_pending():
            pass


def test_every_admin_is_notified_with_the_url(agency_a, subscribe, receiver):
    admins = [MembershipFactory(agency=agency_a, role=Role.AGENCY_ADMIN).user for _ in range(2)]
    MembershipFactory(agency=agency_a, role=Role.AGENT)
    sub, _ = subscribe(receiver.url, ["consent.changed"])

    _fail_for_a_day(agency_a, sub, receiver)

    with agency_scope(agency_a):
        assert not WebhookSubscription.objects.get(pk=sub.pk).enabled
    found = _notifications(agency_a)
    assert [n.user_id for n in found] == [u.pk for u in admins]
    for notification in found:
        assert notification.kind == Notification.Kind.WEBHOOK_DISABLED
        assert notification.text == (
            f"Webhook to {receiver.url} was disabled after failing for 24 hours."
        )
        assert notification.link == reverse("integrations:detail", args=[sub.pk])
        assert notification.conversation_id is None


def test_an_admin_of_another_agency_hears_nothing(agency_a, agency_b, subscribe, receiver):
    MembershipFactory(agency=agency_a, role=Role.AGENCY_ADMIN)
    MembershipFactory(agency=agency_b, role=Role.AGENCY_ADMIN)
    sub, _ = subscribe(receiver.url, ["consent.changed"])
    _fail_for_a_day(agency_a, sub, receiver)
    assert len(_notifications(agency_a)) == 1
    assert _notifications(agency_b) == []


def test_an_admin_disabling_it_themself_notifies_nobody(agency_a, subscribe, receiver):
    MembershipFactory(agency=agency_a, role=Role.AGENCY_ADMIN)
    sub, _ = subscribe(receiver.url, ["consent.changed"])
    integrations.disable(actor=Actor.system("tests"), subscription=sub)
    while dispatch.dispatch_pending():
        pass
    assert _notifications(agency_a) == []


def test_the_notifications_page_lists_it_with_a_link_to_the_subscription(
    agency_a, subscribe, receiver
):
    admin = MembershipFactory(agency=agency_a, role=Role.AGENCY_ADMIN)
    sub, _ = subscribe(receiver.url, ["consent.changed"])
    _fail_for_a_day(agency_a, sub, receiver)
    enroll_totp(admin.user)  # admins enroll in MFA before anything else
    client = Client()
    client.force_login(admin.user)
    page = client.get(reverse("inbox:notifications"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "was disabled after failing for 24 hours" in html
    assert f'href="{reverse("integrations:detail", args=[sub.pk])}"' in html
