"""PostgreSQL row-level security: raw SQL through the app's own connection is scoped too."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.utils import timezone

from bsp import events
from bsp.events import types
from bsp.events.models import EventCursor
from inbox.analytics.models import AnalyticsCursor, ConversationFact, DailyStat
from inbox.models import (
    AgentStatus,
    AwayReply,
    BusinessHours,
    CannedResponse,
    ConversationLabel,
    Label,
    Note,
    Notification,
    Team,
    TeamMember,
    TeamPhoneNumber,
)
from messaging.models import MediaObject, ParkedStatus, ReachedContact
from records.audit import Actor, record_event
from records.dlp.models import DlpAutoReply, DlpFlag, SensitiveDataRule
from records.models import RecordCheckpoint, RecordLeaf
from tenants.models import ApiAccessToken, IdempotencyKey
from tenants.rls import tenant_models
from tenants.scoping import agency_scope, no_scope
from tests.factories import (
    ApiCredentialFactory,
    ConsentFactory,
    InboundMessageFactory,
    InvitationFactory,
    MembershipFactory,
    PhoneNumberFactory,
    TemplateFactory,
)


def _populate(agency) -> None:
    """At least one row of every tenant table for ``agency``."""
    MembershipFactory(agency=agency)
    InvitationFactory(agency=agency)
    number = PhoneNumberFactory(agency=agency)  # with its WABA and business portfolio
    with agency_scope(agency):
        MediaObject.objects.create(
            agency=agency, phone_number=number, meta_media_id="m1", kind="image"
        )
        ParkedStatus.objects.create(
            agency=agency, phone_number=number, wamid="wamid.x", status="sent", payload={}
        )
    credential = ApiCredentialFactory(agency=agency)
    with agency_scope(agency):
        ApiAccessToken.objects.create(
            agency=agency,
            credential=credential,
            token_hash=f"{credential.pk:064x}",
            expires_at=timezone.now(),
        )
        IdempotencyKey.objects.create(
            agency=agency,
            principal=f"credential:{credential.pk}",
            key="k",
            request_hash="0" * 64,
            status_code=201,
        )
    ConsentFactory(agency=agency)
    message = InboundMessageFactory(agency=agency)  # with its conversation and contact
    _populate_inbox(agency, message.conversation, number)
    _populate_reach(agency, message.contact, number)
    _populate_templates(agency)
    _populate_campaigns(agency, message.contact, number)
    _populate_consent(agency)
    with agency_scope(agency):  # records.dlp: the agency's sensitive-data rules
        SensitiveDataRule.objects.create(agency=agency, name="r", kind="keywords", keywords="x")
        # (a rule's save creates the agency's DlpPolicy row: records_dlppolicy is populated)
        DlpFlag.objects.create(
            agency=agency,
            message=message,
            conversation=message.conversation,
            direction="in",
            kinds=["ssn"],
            detector_version="1",
        )
        DlpAutoReply.objects.create(
            agency=agency, conversation=message.conversation, sent_at=timezone.now()
        )
    record_event(agency_id=agency.pk, actor=Actor.system("test"), action="test.event")
    with agency_scope(agency):  # records: the signed checkpoints and their message leaves
        RecordLeaf.objects.create(
            agency=agency, index=0, record_type="message", record_id=message.pk, leaf_hash="0" * 64
        )
        RecordCheckpoint.objects.create(
            agency=agency,
            number=1,
            created_at=timezone.now(),
            audit_sequence=0,
            audit_hash="0" * 64,
            leaf_count=0,
            leaf_root="0" * 64,
            key_id="test",
            statement="",
            archive_key="",
        )
    _populate_records(agency, message)
    with agency_scope(agency), transaction.atomic():  # the outbox, its counter and cursor
        events.publish(
            agency_id=agency.pk, type=types.CONSENT_CHANGED, subject={"contact": 1}, payload={}
        )
        EventCursor.objects.create(agency=agency)
    from tests.integrations.factories import populate_integrations

    populate_integrations(agency)  # bsp.integrations: a subscription, a delivery, the cursor


def _populate_templates(agency) -> None:
    """A template with a version, a banned term, an uploaded header sample."""
    from templates_mgr.models import BannedTerm, HeaderSample, TemplateVersion

    template = TemplateFactory(agency=agency)
    with agency_scope(agency):
        TemplateVersion.objects.create(
            agency=agency,
            template=template,
            number=1,
            action="saved",
            name=template.name,
            language=template.language,
            category=template.category,
            parameter_format=template.parameter_format,
            status=template.status,
            actor_type="user",
        )
        BannedTerm.objects.create(agency=agency, term="jackpot")
        HeaderSample.objects.create(
            agency=agency,
            waba=template.waba,
            handle="4::x",
            filename="a.pdf",
            mime_type="application/pdf",
            size=1,
        )


def _populate_campaigns(agency, contact, number) -> None:
    from messaging.campaigns import models as campaigns

    with agency_scope(agency):
        campaign = campaigns.Campaign.objects.create(
            agency=agency, name="Road closures", phone_number=number
        )
        campaigns.CampaignRecipient.objects.create(
            agency=agency, campaign=campaign, contact=contact, wa_id=contact.wa_id or ""
        )
        campaigns.CampaignStats.objects.create(agency=agency, campaign=campaign)
        campaigns.CampaignCursor.objects.create(agency=agency)
        upload = campaigns.AudienceUpload.objects.create(agency=agency, filename="list.csv")
        campaigns.AudienceUploadRow.objects.create(agency=agency, upload=upload, row_number=2)
        campaigns.PricingRate.objects.create(
            agency=agency, market="north_america", category="utility", rate="0.0040"
        )


def _populate_consent(agency) -> None:
    from messaging.consent import models as consent

    with agency_scope(agency):
        consent.ConsentTopic.objects.create(
            agency=agency, slug="alerts", name="Alerts", wording="Send me alerts."
        )
        upload = consent.ConsentImport.objects.create(
            agency=agency,
            filename="optins.csv",
            sha256="0" * 64,
            size=1,
            encoding="utf-8",
            default_region="US",
        )
        consent.ImportRow.objects.create(agency=agency, consent_import=upload, row_number=2)


def _populate_inbox(agency, conversation, number) -> None:
    user = MembershipFactory(agency=agency).user
    with agency_scope(agency):
        team = Team.objects.create(agency=agency, name="Front desk")
        TeamMember.objects.create(agency=agency, team=team, user=user)
        TeamPhoneNumber.objects.create(agency=agency, team=team, phone_number=number)
        AgentStatus.objects.create(agency=agency, user=user)
        label = Label.objects.create(agency=agency, name="urgent")
        ConversationLabel.objects.create(agency=agency, conversation=conversation, label=label)
        note = Note.objects.create(agency=agency, conversation=conversation, body="n")
        Notification.objects.create(
            agency=agency, user=user, kind="mention", conversation=conversation, note=note
        )
        CannedResponse.objects.create(agency=agency, shortcut="hi", title="Hi", body="Hello")
        BusinessHours.objects.create(agency=agency, phone_number=number)
        AwayReply.objects.create(agency=agency, conversation=conversation, sent_at=timezone.now())
        AnalyticsCursor.objects.create(agency=agency)
        DailyStat.objects.create(agency=agency, day=timezone.localdate(), messages_in=1)
        ConversationFact.objects.create(
            agency=agency,
            conversation=conversation,
            opened_at=timezone.now(),
            opened_day=timezone.localdate(),
        )


def _populate_reach(agency, contact, number) -> None:
    with agency_scope(agency):
        ReachedContact.objects.create(
            agency=agency,
            portfolio_key=number.waba.portfolio_id,
            contact=contact,
            reached_at=timezone.now(),
        )


def _populate_records(agency, message) -> None:
    """Issue 12's records parts: the WORM archive, exports, public-records requests, …"""
    from records.exports.models import ExportJob
    from records.worm.models import ArchivedObject, ArchivePolicy, ArchiveRefresh
    from tests.records.foia.factories import populate_foia
    from tests.records.retention.factories import populate_keep

    populate_keep(agency, message)  # records.holds / records.retention: one row of each table

    populate_foia(agency, message)  # records.foia: requests, their rules and review sets
    with agency_scope(agency):  # records.exports: an export job
        ExportJob.objects.create(agency=agency, format="csv", selection={})

    with agency_scope(agency):  # records.worm: the WORM archive's policy, objects, refreshes
        ArchivePolicy.objects.create(
            agency=agency, mode="compliance", active_days=30, minimum_retention_days=365
        )
        ArchivedObject.objects.create(
            agency=agency,
            conversation_id=message.conversation_id,
            kind="conversation",
            store="local",
            key=f"worm/agency-{agency.pk}/x",
            version_id="00000001",
            sha256="0" * 64,
            size=0,
            mode="compliance",
            retain_until=timezone.now(),
            archived_at=timezone.now(),
        )
        ArchiveRefresh.objects.create(
            agency=agency, conversation_id=message.conversation_id, noticed_at=timezone.now()
        )


def _raw_agency_ids(table: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT agency_id FROM "{table}"')  # noqa: S608 (table names are ours)
        return [row[0] for row in cursor.fetchall()]


TENANT_TABLES = sorted(model._meta.db_table for model in tenant_models())


def test_the_tests_connect_as_an_ordinary_role_that_cannot_bypass_rls(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)


def test_every_tenant_table_has_forced_rls_and_the_isolation_policy(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_policy p ON p.polrelid = c.oid "
            "WHERE c.relrowsecurity AND c.relforcerowsecurity AND p.polname = 'agency_isolation'"
        )
        protected = {row[0] for row in cursor.fetchall()}
    assert TENANT_TABLES, "no tenant tables found"
    assert set(TENANT_TABLES) <= protected


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_raw_select_with_no_agency_set_returns_no_rows(table, agency_a, agency_b):
    _populate(agency_a)
    _populate(agency_b)
    with no_scope():
        assert _raw_agency_ids(table) == []


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_raw_select_with_agency_a_set_returns_only_a_rows(table, agency_a, agency_b):
    _populate(agency_a)
    _populate(agency_b)
    with agency_scope(agency_a):
        ids = _raw_agency_ids(table)
    assert ids
    assert set(ids) == {agency_a.pk}


def test_raw_insert_into_another_agency_is_refused(agency_a, agency_b):
    from django.db import DatabaseError, transaction

    user_id = MembershipFactory(agency=agency_b).user_id
    with (
        agency_scope(agency_a),
        pytest.raises(DatabaseError, match="row-level security"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO tenants_membership (agency_id, user_id, role, created_at) "
            "VALUES (%s, %s, 'agent', now())",
            [agency_b.pk, user_id],
        )


def test_scope_survives_a_rollback_of_the_transaction_that_set_it(agency_a, agency_b):
    from django.db import transaction

    _populate(agency_a)
    _populate(agency_b)
    with agency_scope(agency_b):
        try:
            with transaction.atomic():
                assert set(_raw_agency_ids("tenants_membership")) == {agency_b.pk}
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        # the rollback undid the set_config; the backend must notice and set it again
        assert set(_raw_agency_ids("tenants_membership")) == {agency_b.pk}
