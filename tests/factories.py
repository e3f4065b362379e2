"""factory_boy factories. Tenant-owned factories create rows inside their agency's scope."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Model
from django.utils import timezone

from messaging import models as messaging_models
from templates_mgr import models as template_models
from tenants import models
from tenants.permissions import Role
from tenants.scoping import agency_scope

DEFAULT_PASSWORD = "correct-horse-battery-staple-42"

_M = TypeVar("_M", bound=Model)


class ModelFactory(factory.django.DjangoModelFactory[_M]):
    """A factory whose call is typed as returning its model (factory_boy types only .create())."""

    class Meta:
        abstract = True

    if TYPE_CHECKING:
        # factory_boy's metaclass makes ``SomeFactory(...)`` return the model instance.
        def __new__(cls, *args: Any, **kwargs: Any) -> _M:  # type: ignore[misc]
            ...


class AgencyFactory(ModelFactory[models.Agency]):
    class Meta:
        model = models.Agency

    name = factory.Sequence(lambda n: f"Agency {n}")
    slug = factory.Sequence(lambda n: f"agency-{n}")
    timezone = "America/Chicago"
    live_approved = True  # trial mode (sends to staff numbers only) in its own tests


class UserFactory(ModelFactory[User]):
    class Meta:
        model = get_user_model()

    email = factory.Sequence(lambda n: f"user{n}@example.gov")
    username = factory.LazyAttribute(lambda u: u.email)
    password = factory.django.Password(DEFAULT_PASSWORD)


class AgencyOwnedFactory(ModelFactory[_M]):
    """Creates the row inside its agency's scope, as services do."""

    class Meta:
        abstract = True

    agency = factory.SubFactory(AgencyFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with agency_scope(kwargs["agency"]):
            return super()._create(model_class, *args, **kwargs)


class MembershipFactory(AgencyOwnedFactory[models.Membership]):
    class Meta:
        model = models.Membership

    user = factory.SubFactory(UserFactory)
    role = Role.AGENT


class PortfolioFactory(AgencyOwnedFactory[models.BusinessPortfolio]):
    class Meta:
        model = models.BusinessPortfolio

    business_id = factory.Sequence(lambda n: f"{9000000 + n}")
    name = factory.LazyAttribute(lambda p: f"{p.agency.name} portfolio")


class WabaFactory(AgencyOwnedFactory[models.WhatsAppBusinessAccount]):
    class Meta:
        model = models.WhatsAppBusinessAccount

    portfolio = factory.SubFactory(PortfolioFactory, agency=factory.SelfAttribute("..agency"))
    waba_id = factory.Sequence(lambda n: f"{1000000 + n}")
    name = factory.LazyAttribute(lambda w: f"{w.agency.name} WABA")
    access_token = factory.Sequence(lambda n: f"EAAG-test-token-{n}")


class PhoneNumberFactory(AgencyOwnedFactory[models.PhoneNumber]):
    class Meta:
        model = models.PhoneNumber

    waba = factory.SubFactory(WabaFactory, agency=factory.SelfAttribute("..agency"))
    phone_number_id = factory.Sequence(lambda n: f"{5550000 + n}")
    display_phone_number = factory.Sequence(lambda n: f"+1 555 01{n % 100:02d}")
    verified_name = factory.LazyAttribute(lambda p: p.agency.name)


class InvitationFactory(AgencyOwnedFactory[models.Invitation]):
    class Meta:
        model = models.Invitation

    email = factory.Sequence(lambda n: f"invitee{n}@example.gov")
    role = Role.AGENT
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class ApiCredentialFactory(AgencyOwnedFactory[models.ApiCredential]):
    class Meta:
        model = models.ApiCredential

    name = "Integration"
    prefix = factory.Sequence(lambda n: f"p{n:06d}")
    key_hash = factory.Sequence(lambda n: f"{n:064x}")


class ContactFactory(AgencyOwnedFactory[messaging_models.Contact]):
    class Meta:
        model = messaging_models.Contact

    wa_id = factory.Sequence(lambda n: f"1415556{n % 10000:04d}")
    phone_e164 = factory.LazyAttribute(lambda c: f"+{c.wa_id}")
    profile_name = factory.Sequence(lambda n: f"Citizen {n}")


class ConsentFactory(AgencyOwnedFactory[messaging_models.Consent]):
    class Meta:
        model = messaging_models.Consent

    contact = factory.SubFactory(ContactFactory, agency=factory.SelfAttribute("..agency"))
    status = messaging_models.Consent.Status.OPTED_IN
    source = messaging_models.Consent.Source.STAFF
    recorded_at = factory.LazyFunction(timezone.now)


class ConversationFactory(AgencyOwnedFactory[messaging_models.Conversation]):
    class Meta:
        model = messaging_models.Conversation

    phone_number = factory.SubFactory(PhoneNumberFactory, agency=factory.SelfAttribute("..agency"))
    contact = factory.SubFactory(ContactFactory, agency=factory.SelfAttribute("..agency"))


class InboundMessageFactory(AgencyOwnedFactory[messaging_models.Message]):
    class Meta:
        model = messaging_models.Message

    conversation = factory.SubFactory(ConversationFactory, agency=factory.SelfAttribute("..agency"))
    phone_number = factory.SelfAttribute("conversation.phone_number")
    contact = factory.SelfAttribute("conversation.contact")
    direction = messaging_models.Message.Direction.INBOUND
    type = "text"
    content = factory.LazyFunction(lambda: {"type": "text", "text": {"body": "Hello"}})
    status = messaging_models.Message.Status.RECEIVED
    sender_type = messaging_models.Message.SenderType.CONTACT
    wamid = factory.Sequence(lambda n: f"wamid.inbound{n:08d}")
    received_at = factory.LazyFunction(timezone.now)


class TemplateFactory(AgencyOwnedFactory[template_models.MessageTemplate]):
    class Meta:
        model = template_models.MessageTemplate

    waba = factory.SubFactory(WabaFactory, agency=factory.SelfAttribute("..agency"))
    name = factory.Sequence(lambda n: f"notice_{n}")
    language = "en_US"
    category = template_models.MessageTemplate.Category.UTILITY
    status = template_models.MessageTemplate.Status.APPROVED
    components = factory.LazyFunction(
        lambda: [{"type": "BODY", "text": "Hello {{1}}, your case {{2}} was updated."}]
    )
