"""The demo's public-records request (``seed(agency)``, called by the lead's ``seed_demo``):
the example jurisdictions, the agency's federal holidays of the year, a citizen's
conversation about a pothole, and a request received eight working days ago whose search
found that conversation: two messages responsive, one not, the citizen's phone number
redacted in one message and her name everywhere, both as ``(b)(6)``. The review set is
under the request's automatic legal hold. Nothing is produced yet: the records officer
does that in the demo walk.

Idempotent: a second call finds the request by its requester and returns it. Runs on the
demo's SQLite as on PostgreSQL (the search's full text falls back to substrings there).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from messaging.models import Contact, Conversation, Message
from records.audit import Actor
from records.foia import calendar, services
from records.foia.models import AgencyHoliday, Jurisdiction, RecordsRequest, RequestItem
from records.selection import Selection
from tenants.models import Agency, PhoneNumber
from tenants.scoping import agency_scope

REQUESTER = "Jordan Avery (Riverside Gazette)"
CITIZEN_WA_ID = "15125550199"
CITIZEN_NAME = "Rosa Delgado"
MESSAGES = [
    f"Hi, this is {CITIZEN_NAME}. There is a deep pothole on Main St near the library.",
    "You can call me back at 512-555-0199 about the pothole.",
    "Also, what time does the library open on Saturdays?",
]


def seed(agency: Agency, actor: Actor | None = None) -> RecordsRequest | None:
    """See the module docstring; None when the agency has no WhatsApp number yet."""
    actor = actor or Actor.system("seed_demo")
    with agency_scope(agency), transaction.atomic():
        existing = RecordsRequest.objects.filter(requester_name=REQUESTER).first()
        if existing is not None:
            return existing
        number = PhoneNumber.objects.filter(agency=agency).order_by("pk").first()
        if number is None:
            return None
        services.ensure_example_jurisdictions(agency, actor=actor)
        _holidays(agency, actor)
        messages = _conversation(agency, number)
        federal = Jurisdiction.objects.get(name="Federal FOIA")
        today = services.agency_today(agency)
        received = _working_days_before(today, 8, agency)
        request = services.create_request(
            agency,
            actor=actor,
            requester_name=REQUESTER,
            requester_contact="jordan.avery@riverside-gazette.example",
            received_on=received,
            description="All WhatsApp messages the county received about potholes on Main "
            "St since the start of the month.",
            jurisdiction=federal,
        )
        services.run_search(
            request,
            actor=actor,
            selection=Selection(query="pothole", contact_wa_id=CITIZEN_WA_ID),
        )
        services.run_search(
            request, actor=actor, selection=Selection(query="library", contact_wa_id=CITIZEN_WA_ID)
        )
        items = {i.message_id: i for i in RequestItem.objects.filter(request=request)}
        responsive = [items[m.pk].pk for m in messages[:2] if m.pk in items]
        other = [items[m.pk].pk for m in messages[2:] if m.pk in items]
        if responsive:
            services.decide(request, actor=actor, item_ids=responsive, decision="responsive")
        if other:
            services.decide(request, actor=actor, item_ids=other, decision="not_responsive")
        phone = MESSAGES[1].index("512-555-0199")
        if messages[1].pk in items:
            services.redact_span(
                request,
                actor=actor,
                item_id=items[messages[1].pk].pk,
                start=phone,
                end=phone + len("512-555-0199"),
                code="(b)(6)",
                note="A private individual's phone number.",
            )
        services.redact_phrase(
            request,
            actor=actor,
            phrase=CITIZEN_NAME,
            code="(b)(6)",
            note="A private individual's name.",
        )
        return RecordsRequest.objects.get(pk=request.pk)


def _holidays(agency: Agency, actor: Actor) -> None:
    if AgencyHoliday.objects.exists():
        return
    year = services.agency_today(agency).year
    for each in (year - 1, year):  # the request was received weeks ago: maybe last year
        services.add_federal_holidays(agency, actor=actor, year=each)


def _working_days_before(today: dt.date, days: int, agency: Agency) -> dt.date:
    holidays = set(AgencyHoliday.objects.values_list("date", flat=True))
    day, counted = today, 0
    while counted < days:
        day -= calendar.ONE_DAY
        if calendar.is_working_day(day, holidays):
            counted += 1
    return day


def _conversation(agency: Agency, number: PhoneNumber) -> list[Message]:
    with transaction.atomic():
        contact, _ = Contact.objects.get_or_create(
            agency=agency,
            wa_id=CITIZEN_WA_ID,
            defaults={"phone_e164": f"+{CITIZEN_WA_ID}", "profile_name": CITIZEN_NAME},
        )
        conversation = Conversation.objects.filter(phone_number=number, contact=contact).first()
        if conversation is None:
            conversation = Conversation.objects.create(
                agency=agency, phone_number=number, contact=contact
            )
        now = timezone.now()
        created = []
        for index, body in enumerate(MESSAGES):
            found = Message.objects.filter(
                phone_number=number, wamid=f"wamid.demo-foia-{index}"
            ).first()
            if found is not None:
                created.append(found)
                continue
            at = now - dt.timedelta(days=16, minutes=10 * (len(MESSAGES) - index))
            message = Message.objects.create(
                agency=agency,
                conversation=conversation,
                phone_number=number,
                contact=contact,
                direction=Message.Direction.INBOUND,
                type="text",
                content={"type": "text", "text": {"body": body}},
                status=Message.Status.RECEIVED,
                sender_type=Message.SenderType.CONTACT,
                wamid=f"wamid.demo-foia-{index}",
                received_at=at,
            )
            Message.objects.filter(pk=message.pk).update(created_at=at)
            created.append(message)
        Conversation.objects.filter(pk=conversation.pk).update(
            last_inbound_at=created[-1].received_at,
            last_message_at=created[-1].received_at,
            last_preview=MESSAGES[-1][:160],
        )
    return created
