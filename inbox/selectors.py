"""The team inbox's reads: the conversation list (filters, counts, search, keyset pages)
and what a conversation's page shows around the thread.

Nothing here counts the messages table: counts are over conversations (indexed by agency,
status, assignee and team), capped at ``COUNT_CAP``; message text search goes through the
full-text index on messages and returns conversation ids.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from inbox.models import (
    AgentStatus,
    CannedResponse,
    ConversationLabel,
    Label,
    Note,
    Notification,
    Team,
)
from messaging.models import Consent, Contact, Conversation, Message
from tenants.models import Agency, Membership, PhoneNumber
from tenants.permissions import Perm

PAGE_SIZE = 25
THREAD_PAGE = 50
COUNT_CAP = 1000
SEARCH_CAP = 500
VIEWS = ("mine", "unassigned", "all")
STATUSES = tuple(Conversation.Status.values)
SORTS = ("recent", "waiting")


@dataclass(frozen=True)
class Filters:
    view: str = "all"
    status: str = "open"
    team: int | None = None
    label: int | None = None
    phone_number: int | None = None
    q: str = ""
    sort: str = "recent"
    # The API's (the pages do not offer them): one assignee, one contact, recent activity.
    assignee: int | None = None
    contact: int | None = None
    updated_since: datetime | None = None

    def query(self, **changes: Any) -> str:
        """The query string of these filters with ``changes`` (for links)."""
        merged = replace(self, **changes)
        params = QueryDict(mutable=True)
        for name in ("view", "status", "team", "label", "phone_number", "q", "sort"):
            value = getattr(merged, name)
            if value not in (None, ""):
                params[name] = str(value)
        for name in ("assignee", "contact"):
            value = getattr(merged, name)
            if value is not None:
                params[name] = str(value)
        if merged.updated_since is not None:
            params["updated_since"] = merged.updated_since.isoformat()
        return params.urlencode()


def parse_id(raw: str | None) -> int | None:
    try:
        value = int(raw or "")
    except ValueError:
        return None
    return value if 0 < value < 2**62 else None


def _clean_query(raw: str) -> str:
    """Words of a search, without control characters (PostgreSQL refuses NUL) or lone
    surrogates (an undecodable query string), at most 100 characters."""
    printable = "".join(ch for ch in raw if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF)
    return " ".join(printable.split())[:100]


def parse_moment(raw: str | None) -> datetime | None:
    """An ISO-8601 time with its offset (``2026-12-03T09:00:00Z``); None if not one."""
    try:
        moment = parse_datetime((raw or "").strip())
    except ValueError:  # well formed but out of range (month 13)
        return None
    if moment is None or timezone.is_naive(moment):
        return None
    return moment


def parse_filters(params: QueryDict) -> Filters:
    """Filters from a query string; anything unknown or malformed falls back to the default.
    ``assignee=none`` is the unassigned view."""
    view = params.get("view", "all")
    status = params.get("status", "open")
    sort = params.get("sort", "recent")
    if params.get("assignee") == "none":
        view = "unassigned"
    return Filters(
        view=view if view in VIEWS else "all",
        status=status if status in STATUSES or status == "any" else "open",
        team=parse_id(params.get("team")),
        label=parse_id(params.get("label")),
        phone_number=parse_id(params.get("phone_number")),
        q=_clean_query(params.get("q", "")),
        sort=sort if sort in SORTS else "recent",
        assignee=parse_id(params.get("assignee")),
        contact=parse_id(params.get("contact")),
        updated_since=parse_moment(params.get("updated_since")),
    )


# --- The list ----------------------------------------------------------------------------


def _base(agency: Agency) -> QuerySet[Conversation]:
    return Conversation.objects.filter(agency=agency, last_message_at__isnull=False)


def _narrowed(
    agency: Agency,
    user: User | None,
    filters: Filters,
    search: Search | None = None,
    *,
    view: bool = True,
    status: bool = True,
) -> QuerySet[Conversation]:
    conversations = _base(agency)
    if view and filters.view == "mine":
        conversations = conversations.filter(assignee=user)
    elif view and filters.view == "unassigned":
        conversations = conversations.filter(assignee__isnull=True)
    if status and filters.status != "any":
        conversations = conversations.filter(status=filters.status)
    if filters.team:
        conversations = conversations.filter(team_id=filters.team)
    if filters.phone_number:
        conversations = conversations.filter(phone_number_id=filters.phone_number)
    if filters.assignee:
        conversations = conversations.filter(assignee_id=filters.assignee)
    if filters.contact:
        conversations = conversations.filter(contact_id=filters.contact)
    if filters.updated_since is not None:
        conversations = conversations.filter(last_message_at__gte=filters.updated_since)
    if filters.label:
        # A join from the label's side (index label_conversations), not a semi-join the
        # planner runs as a probe per conversation of the agency.
        conversations = conversations.filter(label_links__label_id=filters.label)
    if search is not None:
        conversations = conversations.filter(search.q())
    return conversations


@dataclass(frozen=True)
class Search:
    """What a search matched, worked out once per request: the list and every count then
    filter by these ids (index lookups) instead of re-running the search each."""

    contact_ids: tuple[int, ...]
    conversation_ids: tuple[int, ...]

    def q(self) -> Q:
        return Q(contact_id__in=self.contact_ids) | Q(pk__in=self.conversation_ids)


def search(agency: Agency, q: str) -> Search | None:
    """Contacts by name or phone number, conversations by words of their messages."""
    if not q:
        return None
    digits = "".join(ch for ch in q if ch.isdigit())
    contacts = Q(profile_name__icontains=q)
    if len(digits) >= 3:
        contacts |= Q(wa_id__contains=digits) | Q(phone_e164__contains=digits)
    contact_ids = (
        Contact.objects.filter(agency=agency).filter(contacts).values_list("pk", flat=True)
    )
    return Search(
        contact_ids=tuple(contact_ids[:SEARCH_CAP]),
        conversation_ids=tuple(_message_text_matches(agency, q)),
    )


def _message_text_matches(agency: Agency, q: str) -> list[int]:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The stored vector (migration inbox 0004): no to_tsvector per row, whatever
            # plan row-level security leaves the planner.
            cursor.execute(
                "SELECT DISTINCT conversation_id FROM ("
                "SELECT conversation_id FROM messaging_message "
                "WHERE agency_id = %s AND search_vector @@ plainto_tsquery('simple', %s) "
                "LIMIT %s) AS matched",
                [agency.pk, q, SEARCH_CAP],
            )
            return [row[0] for row in cursor.fetchall()]
    # The embedded demo (SQLite): a plain substring match.
    return list(
        Message.objects.filter(agency=agency, content__text__body__icontains=q)
        .values_list("conversation_id", flat=True)
        .distinct()[:SEARCH_CAP]
    )


@dataclass(frozen=True)
class ConversationRow:
    conversation: Conversation
    labels: list[str]

    @property
    def waiting_seconds(self) -> int | None:
        since = self.conversation.waiting_since
        return int((timezone.now() - since).total_seconds()) if since else None


@dataclass(frozen=True)
class ConversationPage:
    rows: list[ConversationRow]
    next_cursor: str | None


def _encode(moment: datetime, pk: int) -> str:
    raw = f"{moment.isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment_text, pk_text = raw.rsplit("|", 1)
        moment, pk = parse_datetime(moment_text), int(pk_text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if moment is None or timezone.is_naive(moment):
        return None
    return moment, pk


def conversation_page(
    agency: Agency,
    user: User,
    filters: Filters,
    cursor: str = "",
    size: int = PAGE_SIZE,
    found_by: Search | None = None,
) -> ConversationPage:
    """One page of the list, newest activity first (or longest waiting first); ``cursor``
    is the previous page's ``next_cursor`` (keyset pagination: no OFFSET).

    Two steps: the page's ids from the conversations table alone (an index walked in
    order), then those rows with their contact, assignee, team and number. One query with
    the joins made PostgreSQL join every matching conversation before sorting (row-level
    security's predicates on the joined tables defeat its estimates)."""
    conversations = _narrowed(agency, user, filters, found_by)
    after = _decode(cursor) if cursor else None
    if filters.sort == "waiting":
        conversations = conversations.filter(waiting_since__isnull=False)
        if after:
            moment, pk = after
            conversations = conversations.filter(
                Q(waiting_since__gt=moment) | Q(waiting_since=moment, pk__gt=pk)
            )
        conversations = conversations.order_by("waiting_since", "pk")
        key = "waiting_since"
    else:
        if after:
            moment, pk = after
            conversations = conversations.filter(
                Q(last_message_at__lt=moment) | Q(last_message_at=moment, pk__lt=pk)
            )
        conversations = conversations.order_by("-last_message_at", "-pk")
        key = "last_message_at"
    ids = list(conversations.values_list("pk", flat=True)[: size + 1])
    more = len(ids) > size
    rows = conversation_rows(ids[:size])
    found = rows[-1].conversation if rows else None
    next_cursor = _encode(getattr(found, key), found.pk) if more and found else None
    return ConversationPage(rows, next_cursor)


def conversation_rows(ids: list[int]) -> list[ConversationRow]:
    """The conversations ``ids``, in that order, with their contact, assignee, team, number
    and label names (the second step of a page: a few queries whatever its size)."""
    by_pk = (
        Conversation.objects.filter(pk__in=ids)
        .select_related("contact", "assignee", "team", "phone_number")
        .in_bulk()
    )
    found = [by_pk[pk] for pk in ids if pk in by_pk]
    labels = _labels_of([c.pk for c in found])
    return [ConversationRow(c, labels.get(c.pk, [])) for c in found]


def _labels_of(conversation_pks: list[int]) -> dict[int, list[str]]:
    labels: dict[int, list[str]] = {}
    if not conversation_pks:
        return labels
    links = (
        ConversationLabel.objects.filter(conversation_id__in=conversation_pks)
        .order_by("label__name")
        .values_list("conversation_id", "label__name")
    )
    for pk, name in links:
        labels.setdefault(pk, []).append(name)
    return labels


def _capped_sql(conversations: QuerySet[Conversation]) -> tuple[str, tuple[Any, ...]]:
    """``SELECT COUNT(*)`` of at most COUNT_CAP rows, as SQL and parameters (Django's own
    compiler writes the inner query; values stay parameters)."""
    capped = conversations.order_by().values("pk")[:COUNT_CAP]
    try:
        sql, params = capped.query.get_compiler(using=capped.db).as_sql()
    except EmptyResultSet:  # a filter that matches nothing (a search with no hit)
        return "SELECT 0", ()
    return f"SELECT COUNT(*) FROM ({sql}) AS capped", tuple(params)  # noqa: S608


def _count_all(querysets: list[QuerySet[Conversation]]) -> list[int]:
    """Each queryset's capped count, in one statement (one round trip, not one each)."""
    parts = [_capped_sql(queryset) for queryset in querysets]
    sql = "SELECT " + ", ".join(f"({part})" for part, _ in parts)
    params = [param for _, part_params in parts for param in part_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [int(value) for value in cursor.fetchone()]


@dataclass(frozen=True)
class Counts:
    views: dict[str, int]
    statuses: dict[str, int]
    cap: int = COUNT_CAP


def counts(agency: Agency, user: User, filters: Filters, found_by: Search | None = None) -> Counts:
    """How many conversations each view (within the chosen status) and each status (within
    the chosen view) holds, each capped at COUNT_CAP (shown as "1000+"): index walks of at
    most COUNT_CAP entries each, all in one statement."""
    by_view = [_narrowed(agency, user, replace(filters, view=v), found_by) for v in VIEWS]
    by_status = [_narrowed(agency, user, replace(filters, status=s), found_by) for s in STATUSES]
    found = _count_all(by_view + by_status)
    return Counts(
        dict(zip(VIEWS, found[: len(VIEWS)], strict=True)),
        dict(zip(STATUSES, found[len(VIEWS) :], strict=True)),
    )


# --- The API (inbox.api) ------------------------------------------------------------------


def conversation_keys(agency: Agency, filters: Filters) -> QuerySet[Conversation, Any]:
    """The list's conversations as ``{"id", "last_message_at"}`` (what the API's cursor
    walks, newest activity first); ``conversation_rows`` loads a page of them. A credential
    is nobody: there is no "mine"."""
    if filters.view == "mine":
        filters = replace(filters, view="all")
    return _narrowed(agency, None, filters).values("id", "last_message_at")


def get_conversation(agency: Agency, pk: int) -> ConversationRow | None:
    """One conversation of the agency with what its row shows; None if not the agency's."""
    found = Conversation.objects.filter(agency=agency, pk=pk).values_list("pk", flat=True)
    rows = conversation_rows(list(found[:1]))
    return rows[0] if rows else None


def member_user(agency: Agency, user_pk: int) -> User | None:
    """The user ``user_pk`` if they are a member of the agency."""
    membership = (
        Membership.objects.filter(agency=agency, user_id=user_pk).select_related("user").first()
    )
    return membership.user if membership is not None else None


def team_of_agency(agency: Agency, pk: int) -> Team | None:
    return Team.objects.filter(agency=agency, pk=pk).first()


def label_named(agency: Agency, name: str) -> Label | None:
    return Label.objects.filter(agency=agency, name=name).first()


def notes_for_api(conversation: Conversation) -> QuerySet[Note]:
    """The conversation's notes with their authors (the API pages through them)."""
    return Note.objects.filter(conversation=conversation).select_related("author")


# --- Around the thread ---------------------------------------------------------------------


def thread_messages(
    conversation: Conversation, before: int | None = None
) -> tuple[list[Message], bool]:
    """The newest THREAD_PAGE messages (before message ``before``), oldest first, and
    whether there are earlier ones."""
    messages = Message.objects.filter(conversation=conversation)
    if before:
        messages = messages.filter(pk__lt=before)
    # What each message shows (sender, media, template…) inbox.rendering loads in bulk.
    newest = list(messages.order_by("-created_at", "-pk")[: THREAD_PAGE + 1])
    earlier = len(newest) > THREAD_PAGE
    return list(reversed(newest[:THREAD_PAGE])), earlier


def notes_of(conversation: Conversation) -> list[Note]:
    return list(
        Note.objects.filter(conversation=conversation)
        .select_related("author")
        .order_by("created_at")
    )


def label_ids_of(conversation: Conversation) -> set[int]:
    return set(
        ConversationLabel.objects.filter(conversation=conversation).values_list(
            "label_id", flat=True
        )
    )


def labels_of_agency(agency: Agency) -> list[Label]:
    return list(Label.objects.filter(agency=agency))


def teams_of_agency(agency: Agency) -> list[Team]:
    return list(Team.objects.filter(agency=agency))


def numbers_of_agency(agency: Agency) -> list[PhoneNumber]:
    return list(PhoneNumber.objects.filter(agency=agency).order_by("display_phone_number"))


def assignable_members(agency: Agency) -> list[User]:
    """Members whose role lets them answer conversations, by name."""
    memberships = Membership.objects.filter(agency=agency, user__is_active=True).select_related(
        "user"
    )
    users = [m.user for m in memberships if m.has_perm(Perm.REPLY)]
    return sorted(users, key=lambda u: (u.get_full_name() or u.email).lower())


def my_status(agency: Agency, user: User) -> AgentStatus | None:
    return AgentStatus.objects.filter(agency=agency, user=user).first()


def unread_notifications(agency: Agency, user: User, limit: int = 20) -> list[Notification]:
    return list(
        Notification.objects.filter(agency=agency, user=user, read_at__isnull=True)
        .select_related("conversation__contact")
        .order_by("-created_at")[:limit]
    )


def unread_notification_count(agency: Agency, user: User) -> int:
    return Notification.objects.filter(agency=agency, user=user, read_at__isnull=True)[
        :COUNT_CAP
    ].count()


@dataclass(frozen=True)
class ConsentLine:
    topic: str
    status: str
    source: str
    recorded_at: datetime
    recorded_by: str


def consent_lines(contact: Contact) -> list[ConsentLine]:
    """The current consent per topic ("" = the agency as a whole), newest first."""
    latest: dict[str, Consent] = {}
    history = contact.consents.select_related("recorded_by").order_by("-recorded_at", "-pk")
    for consent in history[:200]:
        latest.setdefault(consent.topic, consent)
    return [
        ConsentLine(
            topic=c.topic,
            status=c.get_status_display(),
            source=c.get_source_display(),
            recorded_at=c.recorded_at,
            recorded_by=(c.recorded_by.get_full_name() or c.recorded_by.email)
            if c.recorded_by
            else "",
        )
        for c in sorted(latest.values(), key=lambda c: c.topic)
    ]


def other_conversations(conversation: Conversation) -> list[Conversation]:
    return list(
        Conversation.objects.filter(contact_id=conversation.contact_id)
        .exclude(pk=conversation.pk)
        .select_related("phone_number")
        .order_by("-last_message_at")[:10]
    )


def canned_responses(agency: Agency) -> QuerySet[CannedResponse]:
    return CannedResponse.objects.filter(agency=agency)
