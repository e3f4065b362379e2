"""CSV imports of opt-ins: upload → preview (changes nothing) → commit (a task, in batches).

The file is hostile input. ``read_file`` decodes it (UTF-8, UTF-8 or UTF-16 with a byte
order mark, else Windows-1252, and says which), strips NULs, skips blank lines, maps the
header's columns (phone, name, topic; every other column is kept as evidence) and refuses
the whole file with reasons when it cannot be read: too large, not text, no phone column,
too many rows, a field too long. Then ``preview`` normalises each number to a WhatsApp id
(libphonenumber with the agency's default region, then WhatsApp's own wa_id rules) and
gives each row an outcome: will opt in, invalid number, duplicate in the file, unknown
topic, already opted in (nothing to do), or **opted out earlier (never opted in again by
an import)**. The preview is stored (``ConsentImport`` and its ``ImportRow``s) and
nothing else changes until an admin commits it.

``commit_batch`` (called by the task until it says it is done) takes the next rows still
to commit under the import's row lock, re-checks each citizen's state (an opt-out that
arrived since the preview wins), creates missing contacts, and appends the opt-ins through
``services.record_opt_ins_bulk``: one INSERT, one audit record and one ``consent.imported``
event per batch, the file's hash, row number and uploader on each Consent row. A batch
either commits whole or not at all, and a committed row is marked, so a task that dies or
runs twice resumes where it stopped and never records a row twice.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from bsp import events
from bsp.events import types
from messaging.consent import bulk, selectors, services
from messaging.consent.models import ConsentImport, ImportRow
from messaging.models import Consent, Contact
from messaging.wa_ids import default_region, to_wa_id
from records.audit import Actor, record_event
from tenants.models import Agency
from tenants.services import ApplicationError, ensure_agency_active

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
MAX_FIELD = 10_000  # characters in one cell: more is not a contact list
MAX_EVIDENCE_COLUMNS = 10
EVIDENCE_CHARS = 200
BATCH = 5000
PROGRESS_EVERY = 5000  # rows read between two progress updates
Outcome = ImportRow.Outcome

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "phone": (
        "phone",
        "phone number",
        "phone_number",
        "mobile",
        "mobile number",
        "cell",
        "cell phone",
        "telephone",
        "tel",
        "number",
        "whatsapp",
        "whatsapp number",
        "wa_id",
        "teléfono",
        "telefono",
        "celular",
    ),
    "name": ("name", "full name", "full_name", "contact name", "nombre"),
    "topic": ("topic", "topics", "list", "tema"),
}
_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with a byte order mark",
    "utf-16": "UTF-16 with a byte order mark",
    "cp1252": "Windows-1252 (not UTF-8: accented letters were read as Windows-1252)",
}
_FORMATTING = re.compile(r"[\s()+\-./]")


class InvalidFile(ApplicationError):
    """The file cannot be imported at all; ``problems`` says why, in plain words."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


@dataclass
class ParsedRow:
    row_number: int  # the file's line (the header is line 1)
    phone: str
    name: str = ""
    topic: str = ""
    evidence: dict[str, str] = field(default_factory=dict)


@dataclass
class ParsedFile:
    encoding: str
    sha256: str
    size: int
    columns: dict[str, str]  # role → header as written
    evidence_columns: list[str]
    rows: list[ParsedRow]


def decode(raw: bytes) -> tuple[str, str]:
    """The text and the encoding it was read in (``InvalidFile`` if none fits)."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise InvalidFile(
                    [f"The file starts as {ENCODING_NAMES[encoding]} but is not: {exc.reason}."]
                ) from exc
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise InvalidFile(
            [
                "The file is not text in a known encoding (UTF-8, UTF-16 with a byte order "
                "mark, or Windows-1252). Save it from your spreadsheet as “CSV UTF-8”."
            ]
        ) from exc


def _role_of(header: str) -> str | None:
    clean = " ".join(header.strip().lower().split())
    for role, aliases in HEADER_ALIASES.items():
        if clean in aliases:
            return role
    return None


def read_file(raw: bytes, *, overrides: dict[str, str] | None = None) -> ParsedFile:
    """Decode and parse an uploaded CSV (``overrides``: role → header chosen by the admin)."""
    if len(raw) > MAX_BYTES:
        raise InvalidFile([f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB."])
    if not raw.strip():
        raise InvalidFile(["The file is empty."])
    text, encoding = decode(raw)
    text = text.replace("\x00", "")
    reader = csv.reader(io.StringIO(text, newline=""))
    lines = _lines(reader)
    try:
        _, header = next(lines)
    except StopIteration:
        raise InvalidFile(["The file has no header row."]) from None
    columns = _map_columns(header, overrides or {})
    phone_at = header.index(columns["phone"])
    name_at = header.index(columns["name"]) if "name" in columns else None
    topic_at = header.index(columns["topic"]) if "topic" in columns else None
    mapped = {phone_at, name_at, topic_at}
    evidence_at = [
        (i, h.strip()[:60]) for i, h in enumerate(header) if i not in mapped and h.strip()
    ][:MAX_EVIDENCE_COLUMNS]
    rows: list[ParsedRow] = []
    for number, cells in lines:
        if len(rows) >= MAX_ROWS:
            raise InvalidFile([f"The file has more than {MAX_ROWS:,} rows: split it."])

        def cell(at: int | None, cells: list[str] = cells) -> str:
            return cells[at].strip() if at is not None and at < len(cells) else ""

        rows.append(
            ParsedRow(
                row_number=number,
                phone=cell(phone_at),
                name=cell(name_at)[:200],
                topic=cell(topic_at)[:64],
                evidence={h: cell(i)[:EVIDENCE_CHARS] for i, h in evidence_at if cell(i)},
            )
        )
    if not rows:
        raise InvalidFile(["The file has a header row but no contacts."])
    return ParsedFile(
        encoding=encoding,
        sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        columns=columns,
        evidence_columns=[h for _, h in evidence_at],
        rows=rows,
    )


def _lines(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each non-blank row; a malformed file is refused whole."""
    try:
        for cells in reader:
            if any(len(c) > MAX_FIELD for c in cells):
                raise InvalidFile(
                    [f"Line {reader.line_num} has a cell longer than {MAX_FIELD:,} characters."]
                )
            if any(c.strip() for c in cells):
                yield reader.line_num, cells
    except csv.Error as exc:
        raise InvalidFile([f"Line {reader.line_num} cannot be read as CSV: {exc}."]) from exc


def _map_columns(header: list[str], overrides: dict[str, str]) -> dict[str, str]:
    columns: dict[str, str] = {}
    stripped = [h.strip() for h in header]
    for role, chosen in overrides.items():
        if not chosen:
            continue
        if chosen.strip() not in stripped:
            raise InvalidFile([f"The file has no column “{chosen}” (for {role})."])
        columns[role] = header[stripped.index(chosen.strip())]
    for h in header:
        found = _role_of(h)
        if found is not None and found not in columns and h not in columns.values():
            columns[found] = h
    if "phone" not in columns:
        shown = ", ".join(f"“{h.strip()}”" for h in header if h.strip())[:300]
        raise InvalidFile(
            [
                "No phone number column: name it “phone” (or choose the column). "
                f"The header row has: {shown or 'nothing'}."
            ]
        )
    return columns


# --- Preview ------------------------------------------------------------------------------


def _contacts_by_wa_id(agency_id: int, wa_id_list: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    pending = list(set(wa_id_list))
    for start in range(0, len(pending), 10_000):
        chunk = pending[start : start + 10_000]
        found.update(
            Contact.objects.filter(agency_id=agency_id, wa_id__in=chunk).values_list("wa_id", "pk")
        )
    return found


def _states(pairs: list[tuple[int, str]]) -> dict[tuple[int, str], selectors.State]:
    found: dict[tuple[int, str], selectors.State] = {}
    for start in range(0, len(pairs), 5000):
        found.update(selectors.effective_states(pairs[start : start + 5000]))
    return found


def upload(
    *,
    actor: Actor,
    agency: Agency,
    user: User | None,
    filename: str,
    raw: bytes,
    default_topic: str = "",
    overrides: dict[str, str] | None = None,
) -> ConsentImport:
    """Check the whole file and keep it for the preview task (``InvalidFile``: nothing is
    stored). The caller queues ``tasks.preview_import`` after the commit."""
    ensure_agency_active(agency)
    parsed = read_file(raw, overrides=overrides)  # ~1 s for 100,000 rows: refused at once
    default_topic = default_topic.strip().lower()
    if default_topic and not selectors.topics(agency).filter(slug=default_topic).exists():
        raise ApplicationError(f"Unknown topic “{default_topic}”.")
    with transaction.atomic():
        consent_import = ConsentImport.objects.create(
            agency=agency,
            uploaded_by=user,
            filename=filename[:255],
            sha256=parsed.sha256,
            size=parsed.size,
            encoding=parsed.encoding,
            columns={**parsed.columns, "evidence": parsed.evidence_columns},
            default_topic=default_topic,
            default_region=default_region(agency),
            status=ConsentImport.Status.READING,
            upload=raw,
            total_rows=len(parsed.rows),
        )
        _changed(actor, consent_import, "uploaded", {"filename": filename[:255]})
    return consent_import


def read_upload(import_id: int) -> ConsentImport | None:
    """The preview task's body: give each row of the kept file its outcome and store them;
    nothing else changes (no contact, no consent). Progress goes to ``read_rows`` as it
    goes. Idempotent: only an import still ``reading`` is read, and its rows are stored in
    the same transaction that makes it ``previewed``."""
    consent_import = ConsentImport.objects.filter(
        pk=import_id, status=ConsentImport.Status.READING
    ).first()
    if consent_import is None or consent_import.upload is None:
        return None
    try:
        planned = _plan(consent_import, bytes(consent_import.upload))
    except ApplicationError as exc:  # InvalidFile included: the file is refused whole
        problems = exc.problems if isinstance(exc, InvalidFile) else [str(exc)]
        return _refuse(consent_import, problems)
    counts: dict[str, int] = {}
    for row in planned:
        counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
    with transaction.atomic():
        locked = (
            ConsentImport.objects.select_for_update()
            .defer("upload")
            .filter(pk=import_id, status=ConsentImport.Status.READING)
            .first()
        )
        if locked is None:
            return None  # another run got there first
        bulk.insert(ImportRow, planned)
        ConsentImport.objects.filter(pk=import_id).update(
            status=ConsentImport.Status.PREVIEWED,
            upload=None,
            counts=counts,
            to_commit=counts.get(Outcome.WILL_OPT_IN, 0),
            read_rows=len(planned),
            total_rows=len(planned),
        )
        locked.refresh_from_db()
        _changed(Actor.worker("consent.preview_import"), locked, "previewed", {})
    return locked


def _progress(import_id: int, done: int) -> None:
    # Its own short commit (the task runs outside a transaction): the page polls it.
    ConsentImport.objects.filter(pk=import_id).update(read_rows=done)


def _plan(consent_import: ConsentImport, raw: bytes) -> list[dict[str, Any]]:
    """Every row of the file with its outcome, as ImportRow columns."""
    parsed = read_file(raw, overrides={"phone": consent_import.columns.get("phone", "")})
    known_topics = set(selectors.topics(consent_import.agency).values_list("slug", flat=True))
    region = consent_import.default_region
    planned: list[dict[str, Any]] = []
    first_row: dict[tuple[str, str], int] = {}
    normalised: dict[str, str | None] = {}  # real lists repeat numbers
    for done, row in enumerate(parsed.rows, start=1):
        topic = (row.topic.strip().lower() or consent_import.default_topic)[:64]
        if row.phone not in normalised:
            normalised[row.phone] = to_wa_id(row.phone, region)
        wa_id = normalised[row.phone]
        outcome, detail = Outcome.WILL_OPT_IN, ""
        if topic and topic not in known_topics:
            outcome, detail = Outcome.UNKNOWN_TOPIC, f"No topic “{topic}”."
        elif wa_id is None:
            outcome = Outcome.INVALID_NUMBER
            detail = "Empty." if not row.phone else f"Not a valid number (read in {region})."
        elif (wa_id, topic) in first_row:
            outcome = Outcome.DUPLICATE
            detail = f"Same number as row {first_row[(wa_id, topic)]}."
        else:
            first_row[(wa_id, topic)] = row.row_number
        planned.append(
            {
                "agency_id": consent_import.agency_id,
                "consent_import_id": consent_import.pk,
                "row_number": row.row_number,
                "phone": row.phone[:64],
                "name": row.name,
                "topic": topic,
                "wa_id": wa_id or "",
                "evidence": row.evidence,
                "outcome": outcome,
                "detail": detail,
                "committed": False,
            }
        )
        if done % PROGRESS_EVERY == 0:
            _progress(consent_import.pk, done)
    _mark_known_states(consent_import.agency_id, planned)
    return planned


def _refuse(consent_import: ConsentImport, problems: list[str]) -> ConsentImport:
    with transaction.atomic():
        ConsentImport.objects.filter(pk=consent_import.pk).update(
            status=ConsentImport.Status.REFUSED,
            upload=None,
            problems=problems,
            finished_at=timezone.now(),
        )
        refused = ConsentImport.objects.defer("upload").get(pk=consent_import.pk)
        _changed(Actor.worker("consent.preview_import"), refused, "refused", {})
    return refused


def preview(
    *,
    actor: Actor,
    agency: Agency,
    user: User | None,
    filename: str,
    raw: bytes,
    default_topic: str = "",
    overrides: dict[str, str] | None = None,
) -> ConsentImport:
    """Upload and read at once, without the task (tests, the demo, the benchmark)."""
    consent_import = upload(
        actor=actor,
        agency=agency,
        user=user,
        filename=filename,
        raw=raw,
        default_topic=default_topic,
        overrides=overrides,
    )
    read = read_upload(consent_import.pk)
    if read is None:
        raise ApplicationError("The import was read by another task.")
    if read.status == ConsentImport.Status.REFUSED:
        raise InvalidFile(read.problems)
    return read


def _mark_known_states(agency_id: int, planned: list[dict[str, Any]]) -> None:
    """Rows of citizens we already know: opted out earlier (never re-opted in), or already
    opted in (nothing to do)."""
    rows = [r for r in planned if r["outcome"] == Outcome.WILL_OPT_IN]
    contacts = _contacts_by_wa_id(agency_id, (r["wa_id"] for r in rows))
    pairs = [(contacts[r["wa_id"]], r["topic"]) for r in rows if r["wa_id"] in contacts]
    states = _states(pairs)
    for row in rows:
        contact_id = contacts.get(row["wa_id"])
        if contact_id is None:
            continue
        state = states.get((contact_id, row["topic"]))
        if state == selectors.State.OPTED_OUT:
            row["outcome"] = Outcome.OPTED_OUT
            row["detail"] = "Opted out earlier: an import never opts them in again."
        elif state == selectors.State.OPTED_IN:
            row["outcome"], row["detail"] = Outcome.ALREADY_OPTED_IN, "Already opted in."


def _changed(
    actor: Actor, consent_import: ConsentImport, change: str, extra: dict[str, Any]
) -> None:
    record_event(
        agency_id=consent_import.agency_id,
        actor=actor,
        action=f"consent_import.{change}",
        target=consent_import,
        changes={
            "sha256": consent_import.sha256,
            "rows": consent_import.total_rows,
            "to_commit": consent_import.to_commit,
            **extra,
        },
    )
    events.publish(
        agency_id=consent_import.agency_id,
        type=types.CONSENT_IMPORT_CHANGED,
        subject={"import": consent_import.pk},
        payload={
            "change": change,
            "status": consent_import.status,
            "committed_rows": consent_import.committed_rows,
            "to_commit": consent_import.to_commit,
        },
    )


# --- Commit -------------------------------------------------------------------------------


def start_commit(*, actor: Actor, consent_import: ConsentImport) -> ConsentImport:
    """Mark the preview for committing (the view then queues the task)."""
    ensure_agency_active(consent_import.agency)
    with transaction.atomic():
        locked = ConsentImport.objects.select_for_update().defer("upload").get(pk=consent_import.pk)
        if locked.status == ConsentImport.Status.COMMITTING:
            return locked  # a second click: the task is (or will be) running
        if locked.status != ConsentImport.Status.PREVIEWED:
            raise ApplicationError("This import was already committed or discarded.")
        locked.status = ConsentImport.Status.COMMITTING
        locked.commit_started_at = timezone.now()
        locked.save(update_fields=["status", "commit_started_at"])
        _changed(actor, locked, "commit_started", {"filename": locked.filename})
    return locked


def discard(*, actor: Actor, consent_import: ConsentImport) -> None:
    with transaction.atomic():
        locked = ConsentImport.objects.select_for_update().defer("upload").get(pk=consent_import.pk)
        if locked.status != ConsentImport.Status.PREVIEWED:
            raise ApplicationError("Only a preview can be discarded.")
        locked.status = ConsentImport.Status.DISCARDED
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "finished_at"])
        _changed(actor, locked, "discarded", {})


@dataclass(frozen=True)
class _Pending:
    pk: int
    row_number: int
    wa_id: str
    name: str
    topic: str
    evidence: dict[str, Any]


def commit_batch(import_id: int, *, batch: int = BATCH) -> bool:
    """Commit the next ``batch`` rows in one short transaction; False when there is
    nothing more to do. Other writers wait at most for one batch (the citizens' rows are
    locked as ``record_consent`` locks one)."""
    actor = Actor.worker("consent.commit_import")
    with transaction.atomic():
        consent_import = (
            ConsentImport.objects.select_for_update(of=("self",))
            .defer("upload")
            .select_related("agency", "uploaded_by")
            .filter(pk=import_id)
            .first()
        )
        if consent_import is None or consent_import.status != ConsentImport.Status.COMMITTING:
            return False
        pending = ImportRow.objects.filter(
            consent_import=consent_import, committed=False, outcome=Outcome.WILL_OPT_IN
        )
        rows = [
            _Pending(*values)
            for values in pending.order_by("pk").values_list(
                "pk", "row_number", "wa_id", "name", "topic", "evidence"
            )[:batch]
        ]
        if not rows:
            _finish(actor, consent_import)
            return False
        # The batch again, as a range: later queries name it without a list of 5,000 ids
        # (each such list cost ~80 ms to bind).
        in_batch = pending.filter(pk__gte=rows[0].pk, pk__lte=rows[-1].pk)
        outcomes, opt_ins = _decide(consent_import, rows, in_batch)
        if opt_ins:
            services.record_opt_ins_bulk(
                actor=actor,
                agency=consent_import.agency,
                opt_ins=opt_ins,
                source=Consent.Source.IMPORT,
                recorded_by=consent_import.uploaded_by,
                audit_action="consent.imported",
                audit_changes={
                    "import": consent_import.pk,
                    "file_sha256": consent_import.sha256,
                    "rows": [rows[0].row_number, rows[-1].row_number],
                },
                subject={"import": consent_import.pk},
            )
        _mark_committed(in_batch, outcomes)
        ConsentImport.objects.filter(pk=import_id).update(
            committed_rows=consent_import.committed_rows + len(rows)
        )
    return True


def _decide(
    consent_import: ConsentImport, rows: list[_Pending], in_batch: QuerySet[ImportRow]
) -> tuple[dict[tuple[str, str], list[int]], list[services.BulkOptIn]]:
    """Each row's outcome, with the citizens locked and their state read again: an opt-out
    recorded since the preview wins."""
    contacts = _lock_contacts(consent_import.agency_id, rows, in_batch)
    states = selectors.effective_states(
        [(contacts[r.wa_id], r.topic) for r in rows],
        contact_ids=Contact.objects.filter(
            agency_id=consent_import.agency_id, wa_id__in=in_batch.values("wa_id")
        ).values("pk"),
    )
    outcomes: dict[tuple[str, str], list[int]] = {}
    opt_ins = []
    uploaded_by = getattr(consent_import.uploaded_by, "email", "")
    for row in rows:
        state = states[(contacts[row.wa_id], row.topic)]
        if state == selectors.State.OPTED_OUT:
            key = (Outcome.OPTED_OUT.value, "Opted out after the preview: not opted in.")
        elif state == selectors.State.OPTED_IN:
            key = (Outcome.ALREADY_OPTED_IN.value, "Already opted in.")
        else:
            key = (Outcome.OPTED_IN.value, "")
            evidence: dict[str, Any] = {
                "import": consent_import.pk,
                "file": consent_import.filename,
                "file_sha256": consent_import.sha256,
                "row": row.row_number,
                "uploaded_by": uploaded_by,
            }
            if row.evidence:
                evidence["columns"] = row.evidence
            opt_ins.append(services.BulkOptIn(contacts[row.wa_id], row.topic, evidence))
        outcomes.setdefault(key, []).append(row.pk)
    return outcomes, opt_ins


def _mark_committed(
    in_batch: QuerySet[ImportRow], outcomes: dict[tuple[str, str], list[int]]
) -> None:
    """The batch's rows become committed and opted in in one UPDATE (of the range), then
    the few others get their outcome (bulk_update's CASE per row costs seconds a batch)."""
    in_batch.update(committed=True, outcome=Outcome.OPTED_IN, detail="")
    for (outcome, detail), pks in outcomes.items():
        if outcome != Outcome.OPTED_IN:
            ImportRow.objects.filter(pk__in=pks).update(outcome=outcome, detail=detail)


def _lock_contacts(
    agency_id: int, rows: list[_Pending], in_batch: QuerySet[ImportRow]
) -> dict[str, int]:
    """wa_id → contact id of the batch's citizens, created where new, and locked (in id
    order, as every other locker of several contacts does)."""
    names = {r.wa_id: r.name for r in rows}
    # ON CONFLICT DO NOTHING: a known citizen (or one who wrote in meanwhile) keeps their row.
    bulk.insert(
        Contact,
        (
            {"agency_id": agency_id, "wa_id": w, "phone_e164": f"+{w}", "profile_name": name}
            for w, name in names.items()
        ),
        ignore_conflicts=True,
    )
    locked = (
        Contact.objects.select_for_update()
        .filter(agency_id=agency_id, wa_id__in=in_batch.values("wa_id"))
        .order_by("pk")
        .values_list("wa_id", "pk")
    )
    return {str(wa_id): pk for wa_id, pk in locked}


def _finish(actor: Actor, consent_import: ConsentImport) -> None:
    counts = dict(
        ImportRow.objects.filter(consent_import=consent_import)
        .values_list("outcome")
        .annotate(n=Count("pk"))
        .values_list("outcome", "n")
    )
    consent_import.counts = counts
    consent_import.status = ConsentImport.Status.COMMITTED
    consent_import.finished_at = timezone.now()
    consent_import.save(update_fields=["counts", "status", "finished_at"])
    _changed(actor, consent_import, "committed", {"counts": counts})


def commit(import_id: int) -> int:
    """Every remaining batch (the task's body); the number of batches done."""
    done = 0
    while commit_batch(import_id):
        done += 1
    return done


# --- The report ---------------------------------------------------------------------------

REPORT_HEADER = ["row", "phone", "name", "topic", "whatsapp_id", "outcome", "detail"]


def _safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (a phone's leading + is kept)."""
    if value[:1] in ("=", "@", "\t", "\r") or (
        value[:1] in ("+", "-") and not _FORMATTING.sub("", value).isdigit()
    ):
        return "'" + value
    return value


def report_lines(consent_import: ConsentImport) -> Iterator[list[str]]:
    yield REPORT_HEADER
    labels = dict(Outcome.choices)
    rows = ImportRow.objects.filter(consent_import=consent_import).order_by("row_number")
    for row in rows.iterator(chunk_size=5000):
        yield [
            str(row.row_number),
            _safe(row.phone),
            _safe(row.name),
            _safe(row.topic),
            row.wa_id,
            labels.get(row.outcome, row.outcome),
            _safe(row.detail),
        ]
