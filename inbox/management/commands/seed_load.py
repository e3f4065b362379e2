"""Seed agencies with a production-sized inbox for benchmarks and load tests.

``python manage.py seed_load`` creates two agencies (``load-1``, ``load-2``), each with a
WABA, two phone numbers, four teams, 20 agents and a supervisor, twelve labels, 100,000
contacts and conversations and 1,000,000 messages (shapes in ``inbox.management.loadgen``),
then VACUUM ANALYZE (as the schema owner, when one is configured). PostgreSQL only.

It writes as the application role inside each agency's scope, so row-level security checks
every row: COPY cannot load a table with row-level security, so rows are COPYed into
temporary tables and moved with one ``INSERT … SELECT`` per table. Each agency is one
transaction. Users get unusable passwords (``changepassword`` to sign in by hand).

Refuses to run outside development or the demo (``DEBUG``/``DEMO``) unless told
``--i-know-this-is-not-production``, and refuses an agency slug that exists unless
``--reset`` (which deletes that agency's inbox data and seeds it again).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

import psycopg
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.utils import timezone

from inbox.management import loadgen
from inbox.models import AgentStatus, ConversationLabel, Label, Team, TeamMember, TeamPhoneNumber
from messaging.models import Contact, Conversation, Message
from records.audit import Actor, record_event
from tenants import services
from tenants.models import Agency, PhoneNumber, WhatsAppBusinessAccount
from tenants.permissions import Role
from tenants.scoping import AgencyOwnedModel, agency_scope

ANALYZED = (Contact, Conversation, Message, ConversationLabel, Label, Team, TeamMember)
WINDOW = timedelta(hours=24)
MESSAGE_CHUNKS = 10  # INSERT … SELECT of the messages in this many slices (progress lines)


class Command(BaseCommand):
    help = "Seed load-test agencies: 100,000 conversations and 1,000,000 messages each."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--agencies", type=int, default=2)
        parser.add_argument("--conversations", type=int, default=100_000, help="per agency")
        parser.add_argument("--messages", type=int, default=1_000_000, help="per agency")
        parser.add_argument("--agents", type=int, default=20, help="per agency")
        parser.add_argument("--long-threads", type=int, default=5, help="500-600 messages each")
        parser.add_argument("--slug-prefix", default="load")
        parser.add_argument("--seed", type=int, default=10)
        parser.add_argument("--reset", action="store_true", help="reseed existing agencies")
        parser.add_argument("--no-analyze", action="store_true")
        parser.add_argument(
            "--i-know-this-is-not-production",
            action="store_true",
            dest="not_production",
            help="allow running with DEBUG and DEMO off (benchmarks, tests)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.DEBUG or getattr(settings, "DEMO", False) or options["not_production"]):
            raise CommandError(
                "seed_load writes millions of fake rows. It runs with DEBUG or DEMO on, or "
                "with --i-know-this-is-not-production."
            )
        if connection.vendor != "postgresql":
            raise CommandError("seed_load needs PostgreSQL (it uses COPY).")
        size = loadgen.Size(
            conversations=options["conversations"],
            messages=options["messages"],
            agents=options["agents"],
            long_threads=options["long_threads"],
        )
        if size.conversations < 1 or size.messages < size.conversations or size.agents < 1:
            raise CommandError("Need at least one conversation, one agent, and a message each.")
        slugs = [f"{options['slug_prefix']}-{n}" for n in range(1, options["agencies"] + 1)]
        existing = sorted(Agency.objects.filter(slug__in=slugs).values_list("slug", flat=True))
        if existing and not options["reset"]:
            raise CommandError(
                f"Already seeded: {', '.join(existing)}. Run with --reset to seed them again."
            )
        started = time.monotonic()
        now = timezone.now()
        for number, slug in enumerate(slugs, start=1):
            generator = loadgen.Generator(size, agency_number=number, now=now, seed=options["seed"])
            _Seeder(self, slug, number, generator).run()
        if not options["no_analyze"]:
            self._analyze()
        self.say(f"Done in {time.monotonic() - started:,.0f} s.")

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def _analyze(self) -> None:
        tables = ", ".join(model._meta.db_table for model in ANALYZED)
        tick = time.monotonic()
        params = _owner_params()
        if params is None:
            # Only a table's owner may ANALYZE it; the app role gets a warning per table.
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {tables}")
            self.say("ANALYZE as the app role (no DATABASE_OWNER_URL: may have been skipped).")
            return
        with psycopg.connect(**params, autocommit=True) as owner:
            owner.execute(f"VACUUM (ANALYZE) {tables}")
        self.say(f"VACUUM ANALYZE as the owner in {time.monotonic() - tick:,.1f} s.")


def _owner_params() -> dict[str, Any] | None:
    """This database, as the schema owner (DATABASE_OWNER_URL's user and password)."""
    url = getattr(settings, "DATABASE_OWNER_URL", "") or os.environ.get("DATABASE_OWNER_URL", "")
    if not url:
        return None
    owner = psycopg.conninfo.conninfo_to_dict(url)
    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold", "server_side_binding"):
        params.pop(key, None)
    params["user"] = owner.get("user", params.get("user"))
    if owner.get("password"):
        params["password"] = owner["password"]
    return params


class _Seeder:
    """One agency, in one transaction, inside its scope."""

    def __init__(self, command: Command, slug: str, number: int, gen: loadgen.Generator) -> None:
        self.command = command
        self.slug = slug
        self.number = number
        self.gen = gen
        self.actor = Actor.system("seed_load")

    def run(self) -> None:
        tick = time.monotonic()
        with transaction.atomic():
            agency = Agency.objects.filter(slug=self.slug).first()
            if agency is None:
                agency = services.create_agency(
                    actor=self.actor,
                    name=f"Load Test Agency {self.number}",
                    slug=self.slug,
                    timezone_name="America/Chicago",
                )
            with agency_scope(agency):
                self._purge(agency)
                self.agency = agency
                self.numbers = self._numbers()
                self.agents = self._agents()
                self.teams = self._teams()
                self.labels = self._labels()
                counts = self._bulk()
                record_event(
                    agency_id=agency.pk,
                    actor=self.actor,
                    action="load.seeded",
                    changes=counts,
                )
        self.command.say(f"{self.slug}: seeded in {time.monotonic() - tick:,.0f} s ({counts}).")

    # --- the small things, through the services and the ORM -------------------------------

    def _numbers(self) -> list[PhoneNumber]:
        numbers = list(PhoneNumber.objects.order_by("pk"))
        if len(numbers) >= 2:
            return numbers[:2]
        waba = WhatsAppBusinessAccount.objects.first() or services.connect_waba(
            actor=self.actor,
            agency=self.agency,
            waba_id=f"98{self.agency.pk:010d}",
            name=f"{self.agency.name} WABA",
            access_token=f"EAAG-load-{self.agency.pk}",
        )
        for k in range(len(numbers), 2):
            numbers.append(
                services.connect_phone_number(
                    actor=self.actor,
                    agency=self.agency,
                    waba=waba,
                    phone_number_id=f"99{self.agency.pk:010d}{k}",
                    display_phone_number=f"+1 555 0{self.number % 100:02d} 000{k + 1}",
                    verified_name=f"{self.agency.name} line {k + 1}",
                )
            )
        return numbers

    def _agents(self) -> list[User]:
        domain = f"{self.slug}.example"
        emails = [f"agent{n:02d}@{domain}" for n in range(1, self.gen.size.agents + 1)]
        supervisor = f"supervisor@{domain}"
        users = {u.username: u for u in User.objects.filter(username__in=[*emails, supervisor])}
        missing = [e for e in [*emails, supervisor] if e not in users]
        password = make_password(None)  # unusable
        for user in User.objects.bulk_create(
            User(username=e, email=e, password=password) for e in missing
        ):
            users[user.username] = user
        for email in emails:
            services.add_member(
                actor=self.actor, agency=self.agency, user=users[email], role=Role.AGENT
            )
        services.add_member(
            actor=self.actor, agency=self.agency, user=users[supervisor], role=Role.SUPERVISOR
        )
        agents = [users[e] for e in emails]
        AgentStatus.objects.bulk_create(
            AgentStatus(agency=self.agency, user=u, availability=AgentStatus.Availability.AVAILABLE)
            for u in agents
        )
        return agents

    def _teams(self) -> list[Team]:
        teams = Team.objects.bulk_create(
            Team(agency=self.agency, name=name, auto_assign=False) for name in loadgen.TEAM_NAMES
        )
        TeamMember.objects.bulk_create(
            TeamMember(agency=self.agency, team=teams[t], user=self.agents[a])
            for a, t in enumerate(self.gen.teams_of_agents)
        )
        TeamPhoneNumber.objects.bulk_create(
            TeamPhoneNumber(agency=self.agency, team=teams[k], phone_number=number)
            for k, number in enumerate(self.numbers)
        )
        return teams

    def _labels(self) -> list[Label]:
        return Label.objects.bulk_create(
            Label(agency=self.agency, name=name) for name in loadgen.LABEL_NAMES
        )

    # --- the bulk: COPY into temporary tables, then INSERT … SELECT under RLS -------------

    def _bulk(self) -> dict[str, int]:
        gen = self.gen
        rows = gen.conversations()
        message_counts = gen.message_counts(rows)
        contact_ids = self._ids(Contact, len(rows))
        conversation_ids = self._ids(Conversation, len(rows))
        tick = time.monotonic()
        with connection.cursor() as cursor:
            messages = _Temp(cursor, Message, _MESSAGE_COLUMNS)
            with messages.copy() as copy:
                wamid = 0
                for row, count in zip(rows, message_counts, strict=True):
                    conversation_id = conversation_ids[row.index]
                    for m in gen.messages(row, count):
                        wamid += 1
                        copy.write_row(
                            self._message(m, conversation_id, contact_ids[row.index], row, wamid)
                        )
                    if row.index % 20_000 == 19_999:
                        self.command.say(f"{self.slug}: generated {row.index + 1:,} conversations")
            self.command.say(
                f"{self.slug}: {sum(message_counts):,} messages generated and copied in "
                f"{time.monotonic() - tick:,.0f} s"
            )
            contacts = _Temp(cursor, Contact, _CONTACT_COLUMNS)
            contacts.load(self._contact(r, contact_ids[r.index]) for r in rows)
            conversations = _Temp(cursor, Conversation, _CONVERSATION_COLUMNS)
            conversations.load(
                self._conversation(r, conversation_ids[r.index], contact_ids[r.index]) for r in rows
            )
            links = _Temp(cursor, ConversationLabel, ("conversation_id", "label_id", "added_at"))
            links.load(
                (conversation_ids[r.index], self.labels[label].pk, r.created_at)
                for r in rows
                for label in r.labels
            )
            counts = {
                "contacts": contacts.insert(self.agency, order_by="id"),
                "conversations": conversations.insert(self.agency, order_by="id"),
                "conversation_labels": links.insert(self.agency),
                "messages": self._insert_messages(messages),
            }
        return counts

    def _insert_messages(self, messages: _Temp) -> int:
        """In slices of time, oldest first, so ids and the heap follow time as in life."""
        start = self.gen.now - timedelta(days=loadgen.HISTORY_DAYS + 1)
        step = (self.gen.now + timedelta(days=4) - start) / MESSAGE_CHUNKS
        total = 0
        tick = time.monotonic()
        for k in range(MESSAGE_CHUNKS):
            low, high = start + k * step, start + (k + 1) * step
            total += messages.insert(
                self.agency,
                where=("created_at >= %s AND created_at < %s", [low, high]),
                order_by="created_at",
            )
            self.command.say(
                f"{self.slug}: {total:,} messages inserted ({time.monotonic() - tick:,.0f} s)"
            )
        return total

    def _ids(self, model: type[models.Model], n: int) -> list[int]:
        """Reserve ``n`` ids from the table's own sequence (messages refer to them)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [model._meta.db_table, n],
            )
            return [r[0] for r in cursor.fetchall()]

    def _agent_id(self, index: int | None) -> int | None:
        return self.agents[index].pk if index is not None else None

    def _contact(self, row: loadgen.ConversationRow, pk: int) -> tuple[Any, ...]:
        attributes = '{"seed_load": "long_thread"}' if row.long_thread else "{}"
        return (pk, row.wa_id, f"+{row.wa_id}", row.name, attributes, row.created_at)

    def _conversation(
        self, row: loadgen.ConversationRow, pk: int, contact_id: int
    ) -> tuple[Any, ...]:
        last_in = row.last_inbound_at
        return (
            pk,
            self.numbers[row.number].pk,
            contact_id,
            row.status,
            last_in,
            last_in + WINDOW if last_in else None,
            row.last_message_at,
            row.created_at,
            self._agent_id(row.assignee),
            self.teams[row.team].pk if row.team is not None else None,
            row.snoozed_until,
            row.waiting_since,
            row.unread_count,
            row.last_preview,
            row.resolved_at,
        )

    def _message(
        self,
        m: loadgen.MessageRow,
        conversation_id: int,
        contact_id: int,
        row: loadgen.ConversationRow,
        wamid: int,
    ) -> tuple[Any, ...]:
        row.last_preview = m.body[:160]  # the last one written stays
        at = m.at
        status = m.status
        out = not m.inbound
        return (
            conversation_id,
            self.numbers[row.number].pk,
            contact_id,
            "in" if m.inbound else "out",
            "text",
            f'{{"type": "text", "text": {{"body": "{m.body}"}}}}',
            f"wamid.LOAD{self.number:02d}{wamid:012d}",
            status,
            "contact" if m.inbound else "user",
            self._agent_id(m.sender_agent),
            at,
            at if m.inbound else None,
            at + timedelta(seconds=1) if out and status in ("sent", "delivered", "read") else None,
            at + timedelta(seconds=3) if out and status in ("delivered", "read") else None,
            at + timedelta(seconds=60) if out and status == "read" else None,
            at + timedelta(seconds=1) if status == "failed" else None,
            131026 if status == "failed" else None,
            "Message undeliverable" if status == "failed" else "",
        )

    def _purge(self, agency: Agency) -> None:
        """--reset: delete what an earlier run seeded (and anything hanging off it), keeping
        the agency, its users, memberships, WABA and numbers."""
        with connection.cursor() as cursor:
            for model in _purge_order():
                cursor.execute(
                    f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)} "  # noqa: S608
                    "WHERE agency_id = %s",
                    [agency.pk],
                )
                if cursor.rowcount:
                    self.command.say(f"{self.slug}: deleted {cursor.rowcount:,} {model.__name__}")


_CONTACT_COLUMNS = ("id", "wa_id", "phone_e164", "profile_name", "attributes", "created_at")
_CONVERSATION_COLUMNS = (
    "id",
    "phone_number_id",
    "contact_id",
    "status",
    "last_inbound_at",
    "window_expires_at",
    "last_message_at",
    "created_at",
    "assignee_id",
    "team_id",
    "snoozed_until",
    "waiting_since",
    "unread_count",
    "last_preview",
    "resolved_at",
)
_MESSAGE_COLUMNS = (
    "conversation_id",
    "phone_number_id",
    "contact_id",
    "direction",
    "type",
    "content",
    "wamid",
    "status",
    "sender_type",
    "sender_user_id",
    "created_at",
    "received_at",
    "sent_at",
    "delivered_at",
    "read_at",
    "failed_at",
    "error_code",
    "error_reason",
)


class _Temp:
    """A temporary table with some of a model's columns (same types): COPY in, then one
    ``INSERT … SELECT`` into the model's table, the other columns at their defaults."""

    def __init__(self, cursor: Any, model: type[models.Model], columns: Sequence[str]) -> None:
        self.cursor = cursor
        self.model = model
        self.columns = columns
        self.name = f"load_{model._meta.db_table}"
        cursor.execute(f"DROP TABLE IF EXISTS {self.name}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {self.name} ON COMMIT DROP AS "  # noqa: S608 (our names)
            f"SELECT {', '.join(columns)} FROM {model._meta.db_table} WITH NO DATA"
        )

    def copy(self) -> Any:
        # The driver's own cursor: Django's wrapper has no COPY. A temporary table has no
        # row-level security, so COPY needs no scope; the INSERT below does.
        return self.cursor.cursor.copy(f"COPY {self.name} ({', '.join(self.columns)}) FROM STDIN")

    def load(self, rows: Iterable[tuple[Any, ...]]) -> None:
        with self.copy() as copy:
            for row in rows:
                copy.write_row(row)

    def insert(
        self,
        agency: Agency,
        *,
        where: tuple[str, list[Any]] | None = None,
        order_by: str = "",
    ) -> int:
        targets: list[str] = []
        values: list[str] = []
        params: list[Any] = []
        for f in self.model._meta.concrete_fields:
            column = str(f.column)
            if column in self.columns:
                targets.append(column)
                values.append(column)
            elif column == "agency_id":
                targets.append(column)
                values.append("%s")
                params.append(agency.pk)
            elif not f.primary_key:
                targets.append(column)
                values.append(f"CAST(%s AS {f.db_type(connection)})")
                params.append(f.get_db_prep_save(f.get_default(), connection))
        sql = (
            f"INSERT INTO {self.model._meta.db_table} ({', '.join(targets)}) "  # noqa: S608
            f"SELECT {', '.join(values)} FROM {self.name}"
        )
        if where:
            sql += f" WHERE {where[0]}"
            params.extend(where[1])
        if order_by:
            sql += f" ORDER BY {order_by}"
        self.cursor.execute(sql, params)
        return int(self.cursor.rowcount)


def _purge_order() -> list[type[AgencyOwnedModel]]:
    """The seeded tables and every tenant table that refers to them, referrers first."""
    seeded: list[type[models.Model]] = [Contact, Team, Label, AgentStatus]
    order: list[type[AgencyOwnedModel]] = []

    def visit(model: type[models.Model], path: tuple[type[models.Model], ...]) -> None:
        if model in order or model in path:
            return
        # Hidden relations too (``related_name="+"``, e.g. a team's numbers).
        for rel in model._meta.get_fields(include_hidden=True):
            if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
                continue
            related = rel.related_model
            if isinstance(related, type) and related is not model:
                visit(related, (*path, model))
        if not issubclass(model, AgencyOwnedModel):
            raise CommandError(f"--reset cannot delete {model.__name__} rows (not agency-owned).")
        order.append(model)

    for model in seeded:
        visit(model, ())
    return order
