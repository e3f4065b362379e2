"""Reading consent: a contact's state per topic (derived from the history, never stored),
the history itself, the contacts directory, topics and imports.

The rule that turns a history into a state is the send policy's
(``messaging.policy.check_opt_in``): an opt-out of everything wins; then the topic's own
newest record; then the general one. ``state_of`` asks the policy itself; the bulk
readers (``effective_state`` for imports, ``with_state`` for the directory's filter) apply
the same rule to many contacts at once, and tests/consent/test_state.py checks them against
the policy on every combination of histories.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from messaging import policy
from messaging.consent.models import ConsentImport, ConsentTopic, ImportRow
from messaging.models import Consent, Contact
from tenants.models import Agency

PAGE_SIZE = 50
OUT = Consent.Status.OPTED_OUT
IN = Consent.Status.OPTED_IN


class State(StrEnum):
    OPTED_IN = "opted_in"
    OPTED_OUT = "opted_out"
    NONE = "none"  # never asked: only replies inside the 24-hour window may go

    @property
    def label(self) -> str:
        return {"opted_in": "Opted in", "opted_out": "Opted out", "none": "No consent"}[self]


def state_of(contact: Contact, topic: str = "") -> State:
    """The contact's state for ``topic`` ("" = the agency as a whole), as the policy sees it."""
    try:
        policy.check_opt_in(contact, topic)
    except policy.SendRefused as refusal:
        return State.OPTED_OUT if refusal.rule == policy.Rule.OPTED_OUT else State.NONE
    return State.OPTED_IN


def effective_state(general: str | None, specific: str | None) -> State:
    """The policy's rule on the newest general and topic statuses (None: no record)."""
    if general == OUT or specific == OUT:
        return State.OPTED_OUT
    if (specific or general) == IN:
        return State.OPTED_IN
    return State.NONE


def latest_statuses(
    contact_ids: Iterable[int] | QuerySet[Any], topics: Iterable[str]
) -> dict[tuple[int, str], str]:
    """``(contact id, topic) → newest status`` for these contacts and topics ("" included),
    in one query (the history's order: recorded_at, then id). ``contact_ids`` may be a
    queryset of ids (a subquery: no list to send)."""
    ids = contact_ids if isinstance(contact_ids, QuerySet) else list(contact_ids)
    wanted = set(topics) | {""}
    latest: dict[tuple[int, str], str] = {}
    if isinstance(ids, list) and not ids:
        return latest
    rows = (
        Consent.objects.filter(contact_id__in=ids, topic__in=wanted)
        .order_by("recorded_at", "pk")
        .values_list("contact_id", "topic", "status")
    )
    for contact_id, topic, status in rows.iterator(chunk_size=5000):
        latest[(contact_id, topic)] = status  # later rows overwrite: the newest stays
    return latest


def effective_states(
    pairs: Iterable[tuple[int, str]], *, contact_ids: QuerySet[Any] | None = None
) -> dict[tuple[int, str], State]:
    """``effective_state`` of many ``(contact id, topic)`` pairs at once (``contact_ids``:
    the same contacts as a queryset, for large batches)."""
    pairs = list(pairs)
    latest = latest_statuses(
        contact_ids if contact_ids is not None else {c for c, _ in pairs},
        {t for _, t in pairs},
    )
    return {
        (contact, topic): effective_state(
            latest.get((contact, "")), latest.get((contact, topic)) if topic else None
        )
        for contact, topic in pairs
    }


def _newest_status(topic: str) -> Coalesce:
    """The newest status for ``topic``, or "" without a record (no NULLs: SQL's three-valued
    logic would make a negated filter drop contacts without history)."""
    newest = Consent.objects.filter(contact=OuterRef("pk"), topic=topic).order_by(
        "-recorded_at", "-pk"
    )
    return Coalesce(Subquery(newest.values("status")[:1]), Value(""))


def with_state(contacts: QuerySet[Contact], topic: str, state: State) -> QuerySet[Contact]:
    """The contacts whose state for ``topic`` is ``state`` (the policy's rule, in SQL)."""
    contacts = contacts.annotate(general_status=_newest_status(""))
    if topic:
        contacts = contacts.annotate(topic_status=_newest_status(topic))
        out = Q(general_status=OUT) | Q(topic_status=OUT)
        opted_in = Q(topic_status=IN) | (Q(topic_status="") & Q(general_status=IN))
    else:
        out = Q(general_status=OUT)
        opted_in = Q(general_status=IN)
    if state == State.OPTED_OUT:
        return contacts.filter(out)
    if state == State.OPTED_IN:
        return contacts.filter(opted_in & ~out)
    return contacts.filter(~out & ~opted_in)


@dataclass(frozen=True)
class DirectoryPage:
    contacts: list[Contact]
    next_after: int | None  # the keyset cursor of the next page (a contact id)


def contact_directory(
    agency: Agency,
    *,
    query: str = "",
    state: State | None = None,
    topic: str = "",
    after: int | None = None,
    limit: int = PAGE_SIZE,
) -> DirectoryPage:
    """Contacts, newest first, by keyset (``after`` = the last id of the previous page):
    searched by name or phone, filtered by state for a topic."""
    contacts = Contact.objects.filter(agency=agency)
    query = query.strip()[:100]
    if query:
        digits = "".join(ch for ch in query if ch.isdigit())
        match = Q(profile_name__icontains=query)
        if len(digits) >= 3:
            match |= Q(wa_id__contains=digits)
        contacts = contacts.filter(match)
    if state is not None:
        contacts = with_state(contacts, topic, state)
    if after is not None:
        contacts = contacts.filter(pk__lt=after)
    found = list(contacts.order_by("-pk")[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    return DirectoryPage(found, found[-1].pk if more and found else None)


def contact(agency: Agency, pk: int) -> Contact | None:
    return Contact.objects.filter(agency=agency, pk=pk).first()


def history(contact: Contact) -> list[Consent]:
    """Every recorded change, newest first, with who recorded it."""
    return list(
        Consent.objects.filter(contact=contact)
        .select_related("recorded_by")
        .order_by("-recorded_at", "-pk")
    )


@dataclass(frozen=True)
class TopicState:
    topic: str  # "" = the agency as a whole
    name: str
    state: State


def states(contact: Contact, topics: Iterable[ConsentTopic]) -> list[TopicState]:
    """The contact's state overall and for each topic (and any topic only the history has)."""
    named = {t.slug: t.name for t in topics}
    recorded = set(
        Consent.objects.filter(contact=contact).values_list("topic", flat=True).distinct()
    )
    rows = [TopicState("", "All messages from the agency", state_of(contact, ""))]
    for slug in sorted((set(named) | recorded) - {""}):
        rows.append(TopicState(slug, named.get(slug, slug), state_of(contact, slug)))
    return rows


def topics(agency: Agency) -> QuerySet[ConsentTopic]:
    return ConsentTopic.objects.filter(agency=agency).order_by("name")


def topic(agency: Agency, pk: int) -> ConsentTopic | None:
    return ConsentTopic.objects.filter(agency=agency, pk=pk).first()


def topic_by_slug(agency: Agency, slug: str) -> ConsentTopic | None:
    return ConsentTopic.objects.filter(agency=agency, slug=slug).first()


def keyword_topics(agency: Agency) -> dict[str, ConsentTopic]:
    """Upper-case keyword → its topic (a keyword belongs to one topic of the agency)."""
    found: dict[str, ConsentTopic] = {}
    for item in ConsentTopic.objects.filter(agency=agency).exclude(keywords=[]):
        for word in item.keywords or []:
            if isinstance(word, str) and word:
                found.setdefault(word.upper(), item)
    return found


def imports(agency: Agency, limit: int = 20) -> list[ConsentImport]:
    imported = ConsentImport.objects.filter(agency=agency).defer("upload")
    return list(imported.order_by("-created_at")[:limit])


def consent_import(agency: Agency, pk: int) -> ConsentImport | None:
    # Without the kept file (up to 20 MB until the preview task has read it).
    return ConsentImport.objects.filter(agency=agency, pk=pk).defer("upload").first()


def import_rows(
    consent_import: ConsentImport, *, outcomes: Iterable[str] = (), limit: int = 0
) -> QuerySet[ImportRow]:
    rows = ImportRow.objects.filter(consent_import=consent_import).order_by("row_number")
    wanted = list(outcomes)
    if wanted:
        rows = rows.filter(outcome__in=wanted)
    return rows[:limit] if limit else rows


# --- The API (messaging.consent.api) -------------------------------------------------------


def contacts_for_api(
    agency: Agency,
    *,
    wa_id: str = "",
    query: str = "",
    topic: str = "",
    state: State | None = None,
) -> QuerySet[Contact]:
    """The agency's contacts for the API's list (unordered: its cursor orders them): one
    WhatsApp id exactly, a name containing ``query``, a state for ``topic`` (the policy's
    rule, as the directory filters)."""
    contacts = Contact.objects.filter(agency=agency)
    if wa_id:
        contacts = contacts.filter(wa_id=wa_id)
    query = query.strip()
    if query:
        contacts = contacts.filter(profile_name__icontains=query)
    if state is not None:
        contacts = with_state(contacts, topic, state)
    return contacts


def contact_by_wa_id(agency: Agency, wa_id: str) -> Contact | None:
    return Contact.objects.filter(agency=agency, wa_id=wa_id).first()


def consent_history(contact: Contact) -> QuerySet[Consent]:
    """``history`` as a queryset (for the API's cursor, which orders it newest first)."""
    return Consent.objects.filter(contact=contact).select_related("recorded_by")
