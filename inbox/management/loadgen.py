"""What ``seed_load`` writes, generated in memory: a deterministic (seeded) agency's worth of
contacts, conversations, label links and messages with realistic shapes.

Pure Python, no database: the command (``commands/seed_load.py``) streams these rows into
PostgreSQL with COPY. The same seed gives the same data, so a benchmark can rely on what
it searches for.

Shapes, per agency (the defaults: 100,000 conversations, 1,000,000 messages):

- one contact per conversation, created uniformly over the last 90 days; names from short
  lists (so a name search matches about 1 in 60 contacts), phone numbers unique per agency;
- status: ~80 % resolved, ~10 % open, ~6 % pending, ~4 % snoozed; open ones mostly recent,
  40 % of them unassigned; 90 % have a team, the assignee is one of the team's agents;
- messages per conversation skewed (most have a few, some dozens), plus ``long_threads``
  conversations of 500-600 messages; text from a civic word list with Zipf frequencies (the
  commonest word is in about half the messages, the rarest in well under 1 %);
- open conversations end with the citizen's messages: ``waiting_since`` is the first of
  them, ``unread_count`` their number; ``last_preview`` is the last message's text;
- about 20 % of conversations carry one or two labels (popular labels more often).
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

DAY = 86_400.0
HISTORY_DAYS = 90
LONG_THREAD_MIN, LONG_THREAD_MAX = 500, 600

TEAM_NAMES = ("Benefits", "Permits", "Roads and Transit", "General Enquiries")
LABEL_NAMES = (
    "urgent",
    "follow-up",
    "complaint",
    "spanish",
    "escalated",
    "billing",
    "accessibility",
    "feedback",
    "duplicate",
    "press",
    "vip",
    "legal",
)
_FIRST_NAMES = (
    "Maria James Aisha Wei Carlos Fatima John Mei Ahmed Olga Luis Grace Ivan Priya Kwame "
    "Sofia David Amara Chen Elena Omar Rosa Daniel Yuki Samuel Leila Pedro Hana Michael Zara "
    "Jose Anna Tomas Nadia Peter Lucia Ali Ingrid Kofi Mariam Robert Ana Hiroshi Beatriz "
    "Thomas Ines Mohammed Julia Paul Chiara Andre Noor George Rania Victor Camila Brian "
    "Esther Raj Lina"
)
_LAST_NAMES = (
    "Garcia Smith Okafor Nguyen Martinez Khan Johnson Chen Rodriguez Ivanova Lopez Williams "
    "Petrov Patel Mensah Rossi Brown Diallo Wang Popescu Hassan Hernandez Miller Tanaka "
    "Adeyemi Haddad Silva Kim Davis Ahmed Gonzalez Novak Horvat Rahman Wilson Moreau Ali "
    "Johansson Boateng Farah Taylor Santos Suzuki Costa Anderson Ferreira Abdullah Schmidt "
    "Clarke Bianchi Dubois Nasser Reyes Thompson Morales Kowalski Ortiz Banerjee Lee Walker"
)
# Zipf-weighted in this order: the first word is the commonest. Lower case, ASCII, no
# punctuation, so the full-text index ('simple' configuration) keeps them as they are.
_WORDS = (
    "the to my is a i and of for on please help need we you it in street this with have "
    "when can not thank at about road water application permit appointment office hello "
    "hours today is there bill form yes no payment status update still waiting week "
    "license trash pickup renewal tax property parking ticket document copy letter address "
    "phone online website account number reference case inspection building noise complaint "
    "light broken sidewalk tree park library pool bus route schedule delay closure detour "
    "snow plow flooding drain sewer leak pothole repair crew contractor fee refund deposit "
    "voucher benefit housing rent assistance childcare school enrollment vaccine clinic "
    "health insurance medicaid food pantry shelter senior disability veteran transport "
    "interpreter spanish translation language hearing court jury summons fine warrant "
    "record birth death marriage certificate passport id card proof residence utility "
    "electric gas meter reading outage recycling compost bulk item collection graffiti "
    "abandoned vehicle tow impound signal crosswalk speed bump camera permit zoning variance "
    "hearing council meeting agenda minutes vote ballot registration polling station "
    "absentee deadline extension appeal denial approval pending review submitted received "
    "confirmation email mail envelope stamp notary signature witness affidavit deed title "
    "lien assessment appraisal exemption homestead rebate credit grant loan scholarship "
    "internship job hiring interview training workshop volunteer donation festival event "
    "fireworks parade market vendor food truck license inspection restaurant grade "
    "sinkhole asbestos mold rodent infestation"
)
FIRST_NAMES = _FIRST_NAMES.split()
LAST_NAMES = _LAST_NAMES.split()
WORDS = list(dict.fromkeys(_WORDS.split()))
MEAN_WORDS_PER_MESSAGE = 11
# Messages draw their text from a pool of this many generated texts: drawing 11 words per
# message was most of the generation time, and word frequencies are the same either way.
TEXT_POOL = 20_000

_STATUS_CUTS = ((0.10, "open"), (0.16, "pending"), (0.20, "snoozed"), (1.0, "resolved"))
_OUTBOUND_STATUS_CUTS = ((0.70, "read"), (0.90, "delivered"), (0.98, "sent"), (1.0, "failed"))


@dataclass(frozen=True)
class Size:
    conversations: int = 100_000
    messages: int = 1_000_000
    agents: int = 20
    long_threads: int = 5

    def long_thread_count(self) -> int:
        """As many 500+ message threads as the message budget allows (none in tiny runs)."""
        count = self.long_threads
        while count and count * LONG_THREAD_MAX + (self.conversations - count) > self.messages:
            count -= 1
        return min(count, self.conversations)


@dataclass(slots=True)
class MessageRow:
    conversation: int  # index into the conversation list
    inbound: bool
    at: datetime
    body: str
    status: str
    sender_agent: int | None  # index into the agent list


@dataclass
class ConversationRow:
    index: int
    name: str
    wa_id: str
    created_at: datetime
    number: int  # index into the agency's phone numbers
    status: str
    team: int | None
    assignee: int | None
    long_thread: bool
    labels: list[int] = field(default_factory=list)
    last_message_at: datetime | None = None
    last_inbound_at: datetime | None = None
    waiting_since: datetime | None = None
    unread_count: int = 0
    last_preview: str = ""
    snoozed_until: datetime | None = None
    resolved_at: datetime | None = None


class Generator:
    """One agency's data. ``agency_number`` keeps phone numbers apart between agencies."""

    def __init__(self, size: Size, *, agency_number: int, now: datetime, seed: int = 10) -> None:
        self.size = size
        self.now = now
        self.agency_number = agency_number
        self.rng = random.Random(seed * 1000 + agency_number)  # noqa: S311 (fake data)
        self.teams_of_agents = [i % len(TEAM_NAMES) for i in range(size.agents)]
        self.agents_of_team = [
            [a for a, t in enumerate(self.teams_of_agents) if t == team]
            for team in range(len(TEAM_NAMES))
        ]
        self._word_cuts = list(itertools.accumulate(1 / rank for rank in range(1, len(WORDS) + 1)))
        self._label_cuts = list(
            itertools.accumulate(1 / rank for rank in range(1, len(LABEL_NAMES) + 1))
        )
        self.texts = [self.text() for _ in range(TEXT_POOL)]

    # --- conversations --------------------------------------------------------------------

    def conversations(self) -> list[ConversationRow]:
        """Oldest first (ids follow creation time, as in life)."""
        n = self.size.conversations
        long_threads = set(self.rng.sample(range(n), self.size.long_thread_count()))
        rows = sorted(
            (self._conversation(i, i in long_threads) for i in range(n)),
            key=lambda row: row.created_at,
        )
        for index, row in enumerate(rows):
            row.index = index
            row.wa_id = f"1{self.agency_number % 100:02d}{index:09d}"
        return rows

    def _conversation(self, index: int, long_thread: bool) -> ConversationRow:
        rng = self.rng
        status = "open" if long_thread else _pick(_STATUS_CUTS, rng.random())
        team = rng.randrange(len(TEAM_NAMES)) if long_thread or rng.random() < 0.9 else None
        assigned = long_thread or rng.random() < (0.6 if status == "open" else 0.95)
        assignee = None
        if assigned:
            pool = self.agents_of_team[team] if team is not None else range(self.size.agents)
            assignee = rng.choice(list(pool)) if pool else None
        row = ConversationRow(
            index=index,
            name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            wa_id=f"1{self.agency_number % 100:02d}{index:09d}",
            created_at=self.now - timedelta(seconds=rng.uniform(60, HISTORY_DAYS * DAY)),
            number=0 if rng.random() < 0.8 else 1,
            status=status,
            team=team,
            assignee=assignee,
            long_thread=long_thread,
        )
        if rng.random() < 0.2:
            row.labels = sorted({self._label() for _ in range(rng.choice((1, 1, 2)))})
        return row

    def _label(self) -> int:
        return bisect.bisect(self._label_cuts, self.rng.random() * self._label_cuts[-1])

    def message_counts(self, rows: list[ConversationRow]) -> list[int]:
        """Messages per conversation: each at least one, long threads 500-600, the rest of
        the budget spread with a skew (log-normal weights)."""
        rng = self.rng
        counts = [1] * len(rows)
        budget = self.size.messages - len(rows)
        if budget < 0:
            raise ValueError("every conversation needs at least one message")
        for row in rows:
            if row.long_thread:
                extra = rng.randint(LONG_THREAD_MIN, LONG_THREAD_MAX) - 1
                counts[row.index] += extra
                budget -= extra
        others = [row.index for row in rows if not row.long_thread]
        if budget > 0 and others:
            weights = list(itertools.accumulate(rng.lognormvariate(0, 1) for _ in others))
            total = weights[-1]
            for _ in range(budget):
                counts[others[bisect.bisect(weights, rng.random() * total)]] += 1
        return counts

    # --- messages -------------------------------------------------------------------------

    def messages(self, row: ConversationRow, count: int) -> Iterator[MessageRow]:
        """The conversation's messages, oldest first; fills in the row's summary fields."""
        rng = self.rng
        start = row.created_at
        if row.status == "resolved":
            span = min(rng.expovariate(1 / (2 * DAY)), (self.now - start).total_seconds())
        else:  # still active: its last message is recent
            recent = self.now - timedelta(seconds=rng.expovariate(1 / (1.5 * DAY)))
            span = max(0.0, (max(recent, start) - start).total_seconds())
        span = max(span, float(count))  # at least a second between messages
        offsets = sorted(rng.uniform(0, span) for _ in range(count - 1))
        times = [start, *(start + timedelta(seconds=o) for o in offsets)]
        directions = [True] + [rng.random() < 0.55 for _ in range(count - 1)]
        if row.status == "open":
            trailing = min(count, rng.choice((1, 1, 1, 2, 2, 3, 5)))
            directions[count - trailing :] = [True] * trailing
        elif count > 1:
            directions[-1] = False  # an agent answered last
        agents = self.agents_of_team[row.team] if row.team is not None else None
        last_in = None
        for at, inbound in zip(times, directions, strict=True):
            sender = None
            if not inbound:
                sender = row.assignee if row.assignee is not None else self._any_agent(agents)
                status = _pick(_OUTBOUND_STATUS_CUTS, rng.random())
            else:
                status = "received"
                last_in = at
            body = self.texts[int(rng.random() * TEXT_POOL)]
            yield MessageRow(row.index, inbound, at, body, status, sender)
        self._summarize(row, times, directions, last_in)

    def _any_agent(self, team_agents: list[int] | None) -> int | None:
        if team_agents:
            return self.rng.choice(team_agents)
        return self.rng.randrange(self.size.agents) if self.size.agents else None

    def _summarize(
        self,
        row: ConversationRow,
        times: list[datetime],
        directions: list[bool],
        last_in: datetime | None,
    ) -> None:
        row.last_message_at = times[-1]
        row.last_inbound_at = last_in
        if row.status == "open":
            trailing = len(directions) - next(
                (i + 1 for i in range(len(directions) - 1, -1, -1) if not directions[i]), 0
            )
            row.waiting_since = times[len(times) - trailing]
            row.unread_count = trailing
        elif row.status == "snoozed":
            row.snoozed_until = self.now + timedelta(seconds=self.rng.uniform(3600, 3 * DAY))
        elif row.status == "resolved":
            row.resolved_at = times[-1] + timedelta(seconds=self.rng.uniform(1, 3600))

    def text(self) -> str:
        rng = self.rng
        n = max(2, min(40, round(rng.expovariate(1 / MEAN_WORDS_PER_MESSAGE))))
        return " ".join(rng.choices(WORDS, cum_weights=self._word_cuts, k=n))


def _pick(cuts: tuple[tuple[float, str], ...], r: float) -> str:
    for cut, value in cuts:
        if r < cut:
            return value
    return cuts[-1][1]
