"""Factories of the team inbox's admin records (tests/factories.py has the core ones)."""

from __future__ import annotations

import factory

from inbox import models
from tests.factories import AgencyOwnedFactory, PhoneNumberFactory, UserFactory


class TeamFactory(AgencyOwnedFactory[models.Team]):
    class Meta:
        model = models.Team

    name = factory.Sequence(lambda n: f"Team {n}")
    auto_assign = True


class TeamMemberFactory(AgencyOwnedFactory[models.TeamMember]):
    class Meta:
        model = models.TeamMember

    team = factory.SubFactory(TeamFactory, agency=factory.SelfAttribute("..agency"))
    user = factory.SubFactory(UserFactory)


class TeamPhoneNumberFactory(AgencyOwnedFactory[models.TeamPhoneNumber]):
    class Meta:
        model = models.TeamPhoneNumber

    team = factory.SubFactory(TeamFactory, agency=factory.SelfAttribute("..agency"))
    phone_number = factory.SubFactory(PhoneNumberFactory, agency=factory.SelfAttribute("..agency"))


class AgentStatusFactory(AgencyOwnedFactory[models.AgentStatus]):
    class Meta:
        model = models.AgentStatus

    user = factory.SubFactory(UserFactory)
    availability = models.AgentStatus.Availability.AVAILABLE
    capacity = 2


class LabelFactory(AgencyOwnedFactory[models.Label]):
    class Meta:
        model = models.Label

    name = factory.Sequence(lambda n: f"Label {n}")


class CannedResponseFactory(AgencyOwnedFactory[models.CannedResponse]):
    class Meta:
        model = models.CannedResponse

    shortcut = factory.Sequence(lambda n: f"reply-{n}")
    title = factory.Sequence(lambda n: f"Reply {n}")
    body = "Thank you for writing to us."


WEEKDAYS_9_TO_5 = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


class BusinessHoursFactory(AgencyOwnedFactory[models.BusinessHours]):
    class Meta:
        model = models.BusinessHours

    phone_number = factory.SubFactory(PhoneNumberFactory, agency=factory.SelfAttribute("..agency"))
    enabled = True
    weekly = factory.LazyFunction(lambda: dict(WEEKDAYS_9_TO_5))
    away_message = "Our office is closed. We answer Monday to Friday, 9:00 to 17:00."
    away_cooldown_hours = 12
