"""The campaigns' writes: drafts, the audience CSV, scheduling, queueing, pause/resume/cancel,
and the agency's pricing rates. Every state change is audited and published (``campaign.*``)
in its transaction.

Lifecycle: draft → scheduled → queuing (recipients resolved, messages being queued chunk by
chunk) → sending (everything queued; the number's drainer sends) → completed (nothing left
to send; statuses keep arriving). Paused and cancelled can be reached from any live state;
failed when the template stops being approved before everything was queued.

Queueing a chunk (``queue_chunk``) is one transaction under the campaign's row lock: it
re-checks what may have changed since planning (each recipient's consent, reachability and
marketing preference with the same bulk rules; the template still APPROVED; the agency and
number able to send), reserves the messaging limit for the chunk's business-initiated
recipients (``messaging.reach.reserve``, under the portfolio's lock), creates missing
conversations in one statement, inserts the messages in one statement (sender type
``campaign``, the campaign's id, the route ``delivery.route_for`` chooses), marks the
recipients, publishes one ``message.queued`` per message (what every consumer of queued
messages already reads) and one ``campaign.queued`` for the chunk, and wakes the number's
drainer after commit: ``messaging.services.send_message``'s path, for a thousand at once.

Pause moves the campaign's ``queued`` messages to ``held`` in one UPDATE. The drainer only
claims ``queued`` rows, with ``FOR UPDATE SKIP LOCKED``; a row it has claimed is ``sending``
and the UPDATE (which waits for the claim's lock, then re-reads the row) leaves it alone: it
is sent once, nothing is sent twice, nothing is lost. Resume moves ``held`` back to
``queued`` and wakes the drainer; cancel moves ``queued`` and ``held`` to ``cancelled`` and
gives their messaging-limit slots back.
"""

from __future__ import annotations

import csv
import io
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from bsp import events
from bsp.celery import CeleryQueue
from bsp.events import types
from bsp.redis import redis_client
from messaging import delivery, policy, previews, reach, wa_ids
from messaging.campaigns import costs
from messaging.campaigns.audience import (
    CONTACTS,
    CSV,
    AudienceError,
    Resolved,
    mapping_problems,
    resolve,
)
from messaging.campaigns.models import (
    AudienceUpload,
    AudienceUploadRow,
    Campaign,
    CampaignRecipient,
    CampaignStats,
    PricingRate,
    SkipReason,
)
from messaging.campaigns.planning import plan_campaign, template_problems
from messaging.models import Conversation, Message
from messaging.whatsapp import builders
from messaging.whatsapp.errors import InvalidMessageError
from records.audit import Actor, record_event
from records.dlp import outbound as dlp_outbound
from templates_mgr.models import MessageTemplate
from templates_mgr.preview import build_template_message
from tenants.models import Agency, PhoneNumber
from tenants.scoping import agency_scope
from tenants.services import ApplicationError, ensure_agency_active

S = Campaign.Status
R = CampaignRecipient.Status
CHUNK = 1000  # recipients queued per transaction
QUEUE_SECONDS = 20.0  # one task's share of queueing; it hands over to a new task after
SPLIT_PAUSE = timedelta(hours=24)  # a split campaign's next share: when today's slots free
EDITABLE_FIELDS = frozenset(
    {
        "name",
        "phone_number",
        "template",
        "audience",
        "variable_mapping",
        "scheduled_at",
        "split_across_days",
    }
)


class CampaignError(ApplicationError):
    """A refused campaign action, in words the admin can act on; ``field`` names the form
    field it is about (or None)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _publish(campaign: Campaign, kind: str, payload: dict[str, Any] | None = None) -> None:
    events.publish(
        agency_id=campaign.agency_id,
        type=kind,
        subject={"campaign": campaign.pk},
        payload={"status": campaign.status, **(payload or {})},
    )


def _audit(actor: Actor, campaign: Campaign, action: str, changes: dict[str, Any]) -> None:
    record_event(
        agency_id=campaign.agency_id,
        actor=actor,
        action=action,
        target=campaign,
        changes=changes,
    )


def _locked(campaign: Campaign | int) -> Campaign:
    pk = campaign if isinstance(campaign, int) else campaign.pk
    return (
        Campaign.objects.select_for_update(of=("self",))
        .select_related("agency", "template", "phone_number__waba")
        .get(pk=pk)
    )


# --- Drafts --------------------------------------------------------------------------------


def _clean_audience(agency: Agency, value: Any) -> dict[str, Any]:
    """The audience definition as stored; hostile or half-filled input is normalised."""
    raw = value if isinstance(value, dict) else {}
    source = raw.get("source") or CONTACTS
    if source not in (CONTACTS, CSV):
        raise CampaignError("Choose who receives the campaign.", "audience")
    labels = sorted({int(x) for x in raw.get("label_ids") or [] if str(x).strip().isdigit()})
    attributes = [
        {"key": str(item.get("key", "")).strip()[:100], "value": str(item.get("value", ""))[:200]}
        for item in raw.get("attributes") or []
        if isinstance(item, dict) and str(item.get("key", "")).strip()
    ]
    upload_id = raw.get("upload_id")
    if source == CSV:
        if (
            not str(upload_id or "").isdigit()
            or not AudienceUpload.objects.filter(
                pk=int(upload_id)  # type: ignore[arg-type]
            ).exists()
        ):
            raise CampaignError("Upload the CSV file of the audience first.", "audience")
        upload_id = int(upload_id)  # type: ignore[arg-type]
    else:
        upload_id = None
    if labels:
        from inbox.models import Label

        if Label.objects.filter(pk__in=labels).count() != len(labels):
            raise CampaignError("One of the labels no longer exists.", "audience")
    return {
        "source": source,
        "topic": str(raw.get("topic") or "").strip()[:64],
        "label_ids": labels,
        "attributes": attributes,
        "upload_id": upload_id,
    }


def _clean_mapping(value: Any) -> dict[str, dict[str, str]]:
    raw = value if isinstance(value, dict) else {}
    mapping = {}
    for key, spec in raw.items():
        if not isinstance(spec, dict):
            continue
        source = str(spec.get("source", ""))
        if source not in ("attribute", "column", "fixed"):
            continue
        mapping[str(key)[:64]] = {"source": source, "value": str(spec.get("value", ""))[:1024]}
    return mapping


def _check_template(campaign: Campaign, template: MessageTemplate | None) -> None:
    if template is None:
        return
    if template.waba_id != campaign.phone_number.waba_id:
        raise CampaignError(
            "This template belongs to another WhatsApp account than the campaign's number.",
            "template",
        )
    topic = str((campaign.audience or {}).get("topic") or "")
    if template.topic and topic and topic != template.topic:
        raise CampaignError(
            f"The template “{template.name}” is for people opted in to “{template.topic}”, "
            f"not “{topic}”.",
            "audience",
        )


def create_campaign(
    *,
    actor: Actor,
    agency: Agency,
    name: str,
    phone_number: PhoneNumber,
    created_by: User | None = None,
    template: MessageTemplate | None = None,
) -> Campaign:
    ensure_agency_active(agency)
    name = (name or "").strip()
    if not name:
        raise CampaignError("Give the campaign a name.", "name")
    with agency_scope(agency), transaction.atomic():
        if phone_number.agency_id != agency.pk:
            raise CampaignError("Choose one of the agency's numbers.", "phone_number")
        campaign = Campaign(
            agency=agency,
            name=name[:200],
            phone_number=phone_number,
            created_by=created_by,
            audience={"source": CONTACTS, "topic": "", "label_ids": [], "attributes": []},
        )
        _check_template(campaign, template)
        campaign.template = template
        campaign.save()
        CampaignStats.objects.create(agency=agency, campaign=campaign)
        _audit(actor, campaign, "campaign.created", {"name": campaign.name})
        _publish(campaign, types.CAMPAIGN_CHANGED, {"created": True})
    return campaign


def update_campaign(*, actor: Actor, campaign: Campaign, **fields: Any) -> Campaign:
    """Change a draft (or a scheduled campaign, which goes back to draft: what was
    confirmed is no longer what would be sent)."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    ensure_agency_active(campaign.agency)
    with agency_scope(campaign.agency_id), transaction.atomic():
        locked = _locked(campaign)
        if not locked.is_editable:
            raise CampaignError(
                f"The campaign is {locked.get_status_display().lower()}; it can no longer "
                "be changed."
            )
        changes: dict[str, Any] = {}
        if "name" in fields:
            name = str(fields["name"] or "").strip()
            if not name:
                raise CampaignError("Give the campaign a name.", "name")
            locked.name = name[:200]
            changes["name"] = locked.name
        if "phone_number" in fields:
            number = fields["phone_number"]
            if number is None or number.agency_id != locked.agency_id:
                raise CampaignError("Choose one of the agency's numbers.", "phone_number")
            locked.phone_number = number
            changes["phone_number"] = number.pk
        if "audience" in fields:
            locked.audience = _clean_audience(locked.agency, fields["audience"])
            changes["audience"] = locked.audience
        if "template" in fields:
            locked.template = fields["template"]
            changes["template"] = locked.template.pk if locked.template else None
        if "variable_mapping" in fields:
            locked.variable_mapping = _clean_mapping(fields["variable_mapping"])
            changes["variable_mapping"] = locked.variable_mapping
        if "scheduled_at" in fields:
            at = fields["scheduled_at"]
            if at is not None and timezone.is_naive(at):
                raise CampaignError("Give the time with its time zone.", "scheduled_at")
            locked.scheduled_at = at
            changes["scheduled_at"] = at.isoformat() if at else None
        if "split_across_days" in fields:
            locked.split_across_days = bool(fields["split_across_days"])
            changes["split_across_days"] = locked.split_across_days
        _check_template(locked, locked.template)
        if locked.status == S.SCHEDULED:
            locked.status = S.DRAFT
            changes["status"] = S.DRAFT
        locked.save()
        _audit(actor, locked, "campaign.updated", changes)
        _publish(locked, types.CAMPAIGN_CHANGED, {"fields": sorted(changes)})
    return locked


# --- The audience CSV ------------------------------------------------------------------------

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
MAX_COLUMNS = 50
NUMBER_COLUMNS = ("phone", "phone_number", "number", "wa_id", "whatsapp", "mobile", "telephone")
PROBLEMS_SHOWN = 200


@dataclass(frozen=True)
class RowProblem:
    row_number: int
    value: str
    reason: str
    label: str


@dataclass(frozen=True)
class UploadResult:
    upload: AudienceUpload | None
    columns: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    error: str = ""


def _decode(data: bytes) -> str:
    """UTF-8 (with or without a BOM), else Windows-1252 (Excel's default)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _number_column(columns: list[str]) -> int | None:
    """The column named like a phone number's, else None (then the first is tried)."""
    lowered = [c.strip().lower().replace(" ", "_") for c in columns]
    for name in NUMBER_COLUMNS:
        if name in lowered:
            return lowered.index(name)
    return None


def upload_audience_csv(
    *,
    actor: Actor,
    agency: Agency,
    file: IO[bytes] | bytes,
    filename: str = "",
    uploaded_by: User | None = None,
) -> UploadResult:
    """Store a CSV of numbers (header row first; the number column is the one called
    phone/number/wa_id/…, else the first) with its other columns as values for the
    template's variables. Each row gets its problem (blank, invalid number, duplicate) and
    is kept; a file that cannot be read stores nothing and says why."""
    ensure_agency_active(agency)
    data = file if isinstance(file, bytes) else file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return UploadResult(None, error="The file is larger than 20 MB; split it.")
    if b"\x00" in data[:4096]:
        return UploadResult(None, error="This is not a CSV text file.")
    text = _decode(data)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next((row for row in reader if any(cell.strip() for cell in row)), None)
    except csv.Error:
        header = None
    if header is None:
        return UploadResult(None, error="The file is empty.")
    columns = [cell.strip()[:100] or f"column {i + 1}" for i, cell in enumerate(header)]
    if len(columns) > MAX_COLUMNS:
        return UploadResult(None, error=f"The file has more than {MAX_COLUMNS} columns.")
    if len(set(columns)) != len(columns):
        return UploadResult(None, error="Two columns of the header have the same name.")
    named = _number_column(columns)
    number_at = 0 if named is None else named
    rows: list[AudienceUploadRow] = []
    problems: list[RowProblem] = []
    seen: set[str] = set()
    with agency_scope(agency):
        region = wa_ids.default_region(agency)  # national numbers are read in it
    try:
        for row_number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue  # blank lines are not rows
            if len(rows) >= MAX_ROWS:
                return UploadResult(None, error=f"The file has more than {MAX_ROWS:,} rows.")
            raw = (cells[number_at] if number_at < len(cells) else "").strip()[:100]
            values = {
                column: (cells[i].strip()[:1024] if i < len(cells) else "")
                for i, column in enumerate(columns)
                if i != number_at
            }
            wa_id, problem = _normalise(raw, seen, region)
            rows.append(
                AudienceUploadRow(
                    agency=agency,
                    row_number=row_number,
                    raw_number=raw,
                    wa_id=wa_id,
                    values=values,
                    problem=problem,
                )
            )
            if problem and len(problems) < PROBLEMS_SHOWN:
                label = AudienceUploadRow.Problem(problem).label
                problems.append(RowProblem(row_number, raw, problem, label))
    except csv.Error as exc:
        return UploadResult(None, error=f"The file is not valid CSV ({exc}).")
    if not rows:
        return UploadResult(None, columns=columns, error="The file has a header but no rows.")
    if named is None and not any(row.wa_id for row in rows):
        # No column is called phone/number/… and the first holds no number either: a
        # file of names or e-mails would otherwise be a list of "invalid numbers".
        return UploadResult(
            None,
            columns=columns,
            error=(
                "No column of phone numbers was found. Name the column “phone” (one of: "
                f"{', '.join(NUMBER_COLUMNS)}), with the country code, e.g. +1 512 555 0100."
            ),
        )
    with agency_scope(agency), transaction.atomic():
        upload = AudienceUpload.objects.create(
            agency=agency,
            filename=(filename or "audience.csv")[:255],
            columns=[c for i, c in enumerate(columns) if i != number_at],
            number_column=columns[number_at],
            row_count=len(rows),
            valid_count=sum(1 for r in rows if not r.problem),
            problem_count=sum(1 for r in rows if r.problem),
            uploaded_by=uploaded_by,
        )
        for row in rows:
            row.upload = upload
        AudienceUploadRow.objects.bulk_create(rows, batch_size=5000)
        record_event(
            agency_id=agency.pk,
            actor=actor,
            action="campaign.audience_uploaded",
            target=upload,
            changes={"filename": upload.filename, "rows": upload.row_count},
        )
    return UploadResult(upload, upload.columns, problems)


def _normalise(raw: str, seen: set[str], region: str) -> tuple[str, str]:
    """(wa_id, problem) of one CSV cell, read as the consent import reads numbers: a
    national number (``(512) 555-0199``) in the agency's own country, ``+``/``00`` numbers
    as international, WhatsApp's own forms (``521…``) with their country code."""
    if not raw:
        return "", AudienceUploadRow.Problem.BLANK
    wa_id = wa_ids.to_wa_id(raw, region)
    if wa_id is None:
        return "", AudienceUploadRow.Problem.INVALID_NUMBER
    if wa_id in seen:
        return wa_id, AudienceUploadRow.Problem.DUPLICATE
    seen.add(wa_id)
    return wa_id, ""


# --- Scheduling ------------------------------------------------------------------------------


def schedule_campaign(
    *,
    actor: Actor,
    campaign: Campaign,
    at: datetime | None = None,
    split_across_days: bool = False,
) -> Campaign:
    """Confirm the campaign for ``at`` (None: now). Refused, with the numbers, when it needs
    more new people than the messaging limit has left, unless split across days. A second
    confirmation of a campaign already scheduled or running changes nothing."""
    ensure_agency_active(campaign.agency)
    if at is not None and timezone.is_naive(at):
        raise CampaignError("Give the time with its time zone.", "scheduled_at")
    with agency_scope(campaign.agency_id):
        current = Campaign.objects.get(pk=campaign.pk)
        if current.status in (S.SCHEDULED, S.QUEUING, S.SENDING, S.COMPLETED):
            return current  # a double submit
        if current.status != S.DRAFT:
            raise CampaignError(
                f"The campaign is {current.get_status_display().lower()}; it cannot be scheduled."
            )
        plan = plan_campaign(current)
        if plan.problems:
            raise CampaignError(" ".join(plan.problems))
        if plan.tier is not None and not plan.tier.fits and not split_across_days:
            raise CampaignError(plan.tier.refusal, "split_across_days")
        with transaction.atomic():
            locked = _locked(current)
            if locked.status != S.DRAFT:
                return locked
            locked.status = S.SCHEDULED
            locked.scheduled_at = at or timezone.now()
            locked.split_across_days = split_across_days
            locked.save(update_fields=["status", "scheduled_at", "split_across_days", "updated_at"])
            _audit(
                actor,
                locked,
                "campaign.scheduled",
                {
                    "scheduled_at": locked.scheduled_at.isoformat(),
                    "split_across_days": split_across_days,
                    "will_send": plan.will_send,
                    "skipped": plan.skipped,
                    "estimated_cost": str(plan.cost.total) if plan.cost else None,
                },
            )
            _publish(
                locked,
                types.CAMPAIGN_SCHEDULED,
                {"scheduled_at": locked.scheduled_at, "will_send": plan.will_send},
            )
            transaction.on_commit(lambda: _start_when_due(locked))
    return locked


EAGER_WINDOW = timedelta(hours=1)  # later starts are left to beat (broker ETAs are fragile)


def _start_when_due(campaign: Campaign) -> None:
    from messaging.campaigns.tasks import start_campaign

    due = campaign.scheduled_at or timezone.now()
    if due - timezone.now() > EAGER_WINDOW:
        return  # tasks.run_due_campaigns (beat) starts it
    start_campaign.apply_async(
        kwargs={"campaign_id": campaign.pk, "agency_id": campaign.agency_id},
        eta=max(due, timezone.now()),
        queue=CeleryQueue.BULK,
    )


# --- Starting and queueing ---------------------------------------------------------------------


def _cannot_send(campaign: Campaign) -> str:
    """Why the campaign cannot queue now ("" if it can): the template's approval."""
    problems = template_problems(campaign.template)
    return problems[0] if problems else ""


def start_campaign(campaign_id: int, *, now: datetime | None = None) -> str:
    """Scheduled and due → resolve the audience into recipients (the skipped ones with
    their reason) and start queueing. Idempotent: only a scheduled campaign starts."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = _locked(campaign_id)
        if campaign.status != S.SCHEDULED:
            return "not_scheduled"
        if campaign.scheduled_at and campaign.scheduled_at > now + timedelta(seconds=1):
            return "not_due"
        if not campaign.agency.is_active:
            return "agency_inactive"  # beat tries again once it is reactivated
        problem = _cannot_send(campaign) or " ".join(mapping_problems(campaign))
        if problem:
            _fail(campaign, problem)
            return "failed"
        try:
            rows = resolve(campaign, now=now)
        except AudienceError as exc:
            _fail(campaign, str(exc))
            return "failed"
        _store_recipients(campaign, rows)
        skipped = Counter(row.skip_reason for row in rows if row.skip_reason)
        campaign.status = S.QUEUING
        campaign.started_at = now
        campaign.resolved = True
        campaign.save(update_fields=["status", "started_at", "resolved", "updated_at"])
        _audit(
            Actor.system("campaigns"),
            campaign,
            "campaign.started",
            {"recipients": len(rows), "skipped": dict(skipped)},
        )
        _publish(
            campaign,
            types.CAMPAIGN_STARTED,
            {"recipients": len(rows), "skipped": dict(skipped)},
        )
    return "started"


def _store_recipients(campaign: Campaign, rows: list[Resolved]) -> None:
    CampaignRecipient.objects.bulk_create(
        (
            CampaignRecipient(
                agency_id=campaign.agency_id,
                campaign=campaign,
                contact_id=row.contact_id,
                wa_id=row.wa_id,
                raw=row.raw,
                row_number=row.row_number,
                variables=row.variables,
                skip_reason=row.skip_reason,
                status=R.SKIPPED if row.skip_reason else R.PENDING,
            )
            for row in rows
        ),
        batch_size=5000,
    )


def _fail(campaign: Campaign, reason: str) -> None:
    """Stop a campaign that cannot go on (called under its lock): what is not queued yet
    is skipped with the reason; what is queued still goes out."""
    left = CampaignRecipient.objects.filter(campaign=campaign, status=R.PENDING).update(
        status=R.SKIPPED, skip_reason=SkipReason.TEMPLATE_UNAVAILABLE, updated_at=timezone.now()
    )
    campaign.status = S.FAILED
    campaign.failure_reason = reason[:300]
    campaign.save(update_fields=["status", "failure_reason", "updated_at"])
    _audit(Actor.system("campaigns"), campaign, "campaign.failed", {"reason": reason, "left": left})
    skipped = {SkipReason.TEMPLATE_UNAVAILABLE.value: left} if left else {}
    _publish(campaign, types.CAMPAIGN_FAILED, {"reason": reason[:300], "skipped": skipped})


def queue_pending(campaign_id: int, *, seconds: float = QUEUE_SECONDS) -> str:
    """Queue the campaign's pending recipients chunk by chunk for up to ``seconds``:
    "more" (call again), "done", "stopped" (paused, cancelled, failed), "tier_wait" (a
    split campaign waits for tomorrow's share) or "blocked" (agency or number cannot send
    now)."""
    deadline = time.monotonic() + seconds
    while True:
        outcome = queue_chunk(campaign_id)
        if outcome != "more":
            break
        if time.monotonic() > deadline:
            return "more"
    if outcome in ("done", "tier_wait"):
        _all_queued(campaign_id, waiting=outcome == "tier_wait")
    return outcome


def continue_queueing(campaign_id: int, *, now: datetime | None = None) -> bool:
    """A split campaign whose next share is due (or a queueing that lost its task) goes
    back to queueing; whether there is anything to queue."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = _locked(campaign_id)
        if campaign.status == S.SENDING and campaign.next_run_at and campaign.next_run_at <= now:
            campaign.status, campaign.next_run_at = S.QUEUING, None
            campaign.save(update_fields=["status", "next_run_at", "updated_at"])
            return True
        if campaign.status == S.QUEUING:
            campaign.save(update_fields=["updated_at"])  # claimed: beat leaves it alone now
            return True
    return False


def _all_queued(campaign_id: int, *, waiting: bool) -> None:
    from messaging.campaigns.consumers import complete_if_done

    with transaction.atomic():
        campaign = _locked(campaign_id)
        if campaign.status not in (S.QUEUING, S.SENDING):
            return
        campaign.status = S.SENDING
        campaign.next_run_at = timezone.now() + SPLIT_PAUSE if waiting else None
        campaign.save(update_fields=["status", "next_run_at", "updated_at"])
        if not waiting:
            complete_if_done(campaign)


@dataclass
class _Chunk:
    """What one chunk does, built in memory and written in a fixed number of statements."""

    queued: list[tuple[CampaignRecipient, Resolved, Message]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (recipient id, reason)
    waiting: int = 0  # split campaigns: beyond today's share, left pending


def queue_chunk(campaign_id: int, *, now: datetime | None = None) -> str:
    """Queue the next CHUNK pending recipients (see the module docstring)."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = _locked(campaign_id)
        if campaign.status not in (S.QUEUING, S.SENDING):
            return "stopped"
        number = campaign.phone_number
        if not campaign.agency.is_active or not number.can_send:
            return "blocked"  # the pending rows wait; beat picks the campaign up again
        template = campaign.template
        fresh_status = MessageTemplate.objects.filter(pk=campaign.template_id).values_list(
            "status", flat=True
        )
        if template is None or list(fresh_status) != [MessageTemplate.Status.APPROVED]:
            template = MessageTemplate.objects.filter(pk=campaign.template_id).first()
            campaign.template = template
            _fail(campaign, _cannot_send(campaign) or "The template is not approved.")
            return "stopped"
        pending = list(
            CampaignRecipient.objects.filter(campaign=campaign, status=R.PENDING).order_by("id")[
                :CHUNK
            ]
        )
        if not pending:
            return "done"
        chunk = _decide(campaign, template, pending, now)
        _write(campaign, template, chunk, now)
    if chunk.waiting:
        return "tier_wait"
    return "more" if len(pending) == CHUNK else "done"


def _decide(
    campaign: Campaign, template: MessageTemplate, pending: list[CampaignRecipient], now: datetime
) -> _Chunk:
    """The chunk's verdicts now: the bulk rules again, then the messaging limit."""
    contact_ids = [r.contact_id for r in pending if r.contact_id]
    fresh = {r.contact_id: r for r in resolve(campaign, now=now, contact_ids=contact_ids)}
    chunk = _Chunk()
    # The agency's DLP policy on each recipient's values: loaded once for the chunk, one
    # scan per recipient, no query (records.dlp.outbound.Screen).
    screen = dlp_outbound.screen(campaign.agency)
    # Trial mode, as send_message checks it: loaded once for the chunk.
    trial = policy.trial_recipients(campaign.agency) if campaign.agency.in_trial else None
    sendable: list[tuple[CampaignRecipient, Resolved]] = []
    for recipient in pending:
        verdict = fresh.get(recipient.contact_id) if recipient.contact_id else None
        if verdict is None:
            chunk.skipped.append((recipient.pk, SkipReason.NO_OPT_IN))
        elif verdict.skip_reason:
            chunk.skipped.append((recipient.pk, verdict.skip_reason))
        elif trial is not None and verdict.wa_id not in trial:
            chunk.skipped.append((recipient.pk, SkipReason.TRIAL_RECIPIENT))
        elif screen.blocking(verdict.variables):
            chunk.skipped.append((recipient.pk, SkipReason.SENSITIVE_DATA))
        else:
            sendable.append((recipient, verdict))
    screen.record_skips(campaign)  # one audit event and one dlp.flagged for the chunk
    business_initiated = [v.contact_id for _, v in sendable if not v.window_open and v.contact_id]
    reservation = reach.reserve(campaign.phone_number.waba.portfolio_id, business_initiated, now)
    route = delivery.route_for(campaign.agency, template)
    for recipient, verdict in sendable:
        if verdict.contact_id is None:
            continue  # a sendable verdict always has a contact (opt-in is the contact's)
        if verdict.contact_id in reservation.refused:
            if campaign.split_across_days:
                chunk.waiting += 1
            else:
                chunk.skipped.append((recipient.pk, SkipReason.TIER_EXCEEDED))
            continue
        try:
            content = builders.stored_form(build_template_message(template, verdict.variables))
        except InvalidMessageError:
            chunk.skipped.append((recipient.pk, SkipReason.MISSING_VARIABLE))
            continue
        message = Message(
            agency_id=campaign.agency_id,
            phone_number_id=campaign.phone_number_id,
            contact_id=verdict.contact_id,
            direction=Message.Direction.OUTBOUND,
            type="template",
            content=content,
            template=template,
            status=Message.Status.QUEUED,
            business_initiated=not verdict.window_open,
            sender_type=Message.SenderType.CAMPAIGN,
            campaign_id=campaign.pk,
            route=route,
        )
        chunk.queued.append((recipient, verdict, message))
    return chunk


def _write(campaign: Campaign, template: MessageTemplate, chunk: _Chunk, now: datetime) -> None:
    agency_id, number_pk = campaign.agency_id, campaign.phone_number_id
    conversations = _conversations(agency_id, number_pk, [m.contact_id for _, _, m in chunk.queued])
    for _, _, message in chunk.queued:
        message.conversation_id = conversations[message.contact_id]
    messages = Message.objects.bulk_create([m for _, _, m in chunk.queued], batch_size=CHUNK)
    _move_conversations(agency_id, messages, now)
    _mark_recipients(chunk, messages, now)
    skipped = Counter(reason for _, reason in chunk.skipped)
    events.publish_many(
        agency_id,
        [
            *(
                events.Event(
                    types.MESSAGE_QUEUED,
                    {
                        "message": m.pk,
                        "conversation": m.conversation_id,
                        "contact": m.contact_id,
                        "phone_number": m.phone_number_id,
                    },
                    {
                        "type": m.type,
                        "sender_type": m.sender_type,
                        "sender_user": None,
                        "campaign": campaign.pk,
                        "business_initiated": m.business_initiated,
                    },
                )
                for m in messages
            ),
            events.Event(
                types.CAMPAIGN_QUEUED,
                {"campaign": campaign.pk},
                {"status": campaign.status, "queued": len(messages), "skipped": dict(skipped)},
            ),
        ],
    )
    if messages:
        transaction.on_commit(lambda: _wake(messages))


def _wake(messages: list[Message]) -> None:
    """Wake the number's drainer (with Redis: one wake-up; without, the demo, one task per
    message as ``enqueue_delivery`` does for every bulk message)."""
    if redis_client() is not None:
        delivery.schedule_drain(messages[0].phone_number_id, messages[0].agency_id)
        return
    for message in messages:
        delivery.enqueue_delivery(message)


def _conversations(agency_id: int, number_pk: int, contact_ids: list[int]) -> dict[int, int]:
    """contact → conversation with the number, the missing ones created in one statement."""
    wanted = set(contact_ids)
    rows = Conversation.objects.filter(phone_number_id=number_pk, contact_id__in=wanted)
    found = dict(rows.values_list("contact_id", "pk"))
    missing = wanted - set(found)
    if missing:
        Conversation.objects.bulk_create(
            [
                Conversation(agency_id=agency_id, phone_number_id=number_pk, contact_id=c)
                for c in sorted(missing)
            ],
            ignore_conflicts=True,  # an inbound message may have created one meanwhile
        )
        found.update(rows.filter(contact_id__in=missing).values_list("contact_id", "pk"))
    return found


_MOVE_SQL = """
UPDATE messaging_conversation AS cv
   SET last_message_at = %(now)s, last_preview = v.preview
  FROM unnest(%(ids)s::bigint[], %(previews)s::text[]) AS v(id, preview)
 WHERE cv.id = v.id AND cv.agency_id = %(agency)s
"""


def _move_conversations(agency_id: int, messages: list[Message], now: datetime) -> None:
    """The conversations' list columns, as ``send_message`` moves them (a campaign does not
    end the citizen's wait: only staff and integrators answer)."""
    if not messages:
        return
    snippets = {m.conversation_id: previews.preview(m.type, m.content) for m in messages}
    if connection.vendor == "postgresql":
        ids = sorted(snippets)
        with connection.cursor() as cursor:
            cursor.execute(
                _MOVE_SQL,
                {
                    "now": now,
                    "ids": ids,
                    "previews": [snippets[i] for i in ids],
                    "agency": agency_id,
                },
            )
        return
    rows = list(Conversation.objects.filter(pk__in=snippets))
    for row in rows:
        row.last_message_at, row.last_preview = now, snippets[row.pk]
    Conversation.objects.bulk_update(rows, ["last_message_at", "last_preview"])


def _mark_recipients(chunk: _Chunk, messages: list[Message], now: datetime) -> None:
    updated = []
    for (recipient, verdict, _), message in zip(chunk.queued, messages, strict=True):
        recipient.status, recipient.message_id = R.QUEUED, message.pk
        recipient.variables, recipient.updated_at = verdict.variables, now
        updated.append(recipient)
    reasons = dict(chunk.skipped)
    skipped = list(CampaignRecipient.objects.filter(pk__in=reasons))
    for recipient in skipped:
        recipient.status, recipient.skip_reason = R.SKIPPED, reasons[recipient.pk]
        recipient.updated_at = now
    CampaignRecipient.objects.bulk_update(
        updated, ["status", "message", "variables", "updated_at"], batch_size=CHUNK
    )
    CampaignRecipient.objects.bulk_update(
        skipped, ["status", "skip_reason", "updated_at"], batch_size=CHUNK
    )


# --- Pause, resume, cancel ---------------------------------------------------------------------


def _ours(campaign: Campaign) -> Any:
    """The campaign's messages, found through its recipients (their index), not by a scan
    of the messages table for the campaign id."""
    queued = CampaignRecipient.objects.filter(campaign=campaign, status=R.QUEUED)
    return Message.objects.filter(
        pk__in=queued.values("message_id"), sender_type=Message.SenderType.CAMPAIGN
    )


def pause_campaign(*, actor: Actor, campaign: Campaign) -> Campaign:
    """Stop sending: the campaign's queued messages are held (what a drainer has already
    claimed goes out); queueing stops. Pausing a paused campaign changes nothing."""
    with agency_scope(campaign.agency_id), transaction.atomic():
        locked = _locked(campaign)
        if locked.status == S.PAUSED:
            return locked
        if not locked.can_pause:
            raise CampaignError(
                f"The campaign is {locked.get_status_display().lower()}; it cannot be paused."
            )
        held = _ours(locked).filter(status=Message.Status.QUEUED).update(status=Message.Status.HELD)
        previous = locked.status
        locked.status, locked.paused_at = S.PAUSED, timezone.now()
        locked.save(update_fields=["status", "paused_at", "updated_at"])
        _audit(actor, locked, "campaign.paused", {"held": held, "previous": previous})
        _publish(locked, types.CAMPAIGN_PAUSED, {"held": held, "previous": previous})
    return locked


def resume_campaign(*, actor: Actor, campaign: Campaign) -> Campaign:
    """Held messages are queued again (the same rows: nothing is sent twice) and the drainer
    woken; queueing goes on where it stopped. Resuming a running campaign changes nothing."""
    ensure_agency_active(campaign.agency)
    with agency_scope(campaign.agency_id), transaction.atomic():
        locked = _locked(campaign)
        if locked.status in (S.SCHEDULED, S.QUEUING, S.SENDING):
            return locked
        if not locked.can_resume:
            raise CampaignError(
                f"The campaign is {locked.get_status_display().lower()}; it cannot be resumed."
            )
        requeued = (
            _ours(locked).filter(status=Message.Status.HELD).update(status=Message.Status.QUEUED)
        )
        pending = CampaignRecipient.objects.filter(campaign=locked, status=R.PENDING).exists()
        if locked.started_at is None:
            locked.status = S.SCHEDULED
        elif not locked.resolved or pending:
            locked.status = S.QUEUING
        else:
            locked.status = S.SENDING
        locked.save(update_fields=["status", "updated_at"])
        _audit(actor, locked, "campaign.resumed", {"requeued": requeued, "status": locked.status})
        _publish(locked, types.CAMPAIGN_RESUMED, {"requeued": requeued})
        transaction.on_commit(lambda: _continue(locked, wake=requeued > 0))
    return locked


def _continue(campaign: Campaign, *, wake: bool) -> None:
    from messaging.campaigns.tasks import queue_campaign

    if wake:
        delivery.schedule_drain(campaign.phone_number_id, campaign.agency_id, force=True)
    if campaign.status == S.SCHEDULED:
        _start_when_due(campaign)
    elif campaign.status == S.QUEUING:
        queue_campaign.apply_async(
            kwargs={"campaign_id": campaign.pk, "agency_id": campaign.agency_id},
            queue=CeleryQueue.BULK,
        )
    else:
        from messaging.campaigns.consumers import complete_if_done

        with agency_scope(campaign.agency_id), transaction.atomic():
            complete_if_done(_locked(campaign))


def cancel_campaign(*, actor: Actor, campaign: Campaign) -> Campaign:
    """Nothing more is sent: queued and held messages are cancelled (their messaging-limit
    slots given back), recipients not queued yet are cancelled. What a drainer already
    claimed goes out. Cancelling a cancelled campaign changes nothing."""
    with agency_scope(campaign.agency_id), transaction.atomic():
        locked = _locked(campaign)
        if locked.status == S.CANCELLED:
            return locked
        if not locked.can_cancel:
            raise CampaignError(
                f"The campaign is {locked.get_status_display().lower()}; it cannot be cancelled."
            )
        now = timezone.now()
        counts = {}
        contacts: set[int] = set()
        for status in (Message.Status.QUEUED, Message.Status.HELD):
            rows = _ours(locked).filter(status=status)
            contacts.update(rows.values_list("contact_id", flat=True))
            # One UPDATE, re-checked per row: a row a drainer claimed meanwhile is `sending`.
            counts[status.value] = rows.update(status=Message.Status.CANCELLED)
        CampaignRecipient.objects.filter(
            campaign=locked, message__status=Message.Status.CANCELLED, status=R.QUEUED
        ).update(status=R.CANCELLED, updated_at=now)
        pending = CampaignRecipient.objects.filter(campaign=locked, status=R.PENDING).update(
            status=R.CANCELLED, updated_at=now
        )
        if contacts:
            reach.release(locked.phone_number.waba.portfolio_id, contacts, now)
        previous = locked.status
        locked.status, locked.cancelled_at = S.CANCELLED, now
        locked.save(update_fields=["status", "cancelled_at", "updated_at"])
        payload = {
            "from_queued": counts[Message.Status.QUEUED.value],
            "from_held": counts[Message.Status.HELD.value],
            "pending": pending,
            "previous": previous,
        }
        _audit(actor, locked, "campaign.cancelled", payload)
        _publish(locked, types.CAMPAIGN_CANCELLED, payload)
    return locked


# --- Pricing rates -----------------------------------------------------------------------------


def set_pricing_rate(
    *, actor: Actor, agency: Agency, market: str, category: str, rate: Any
) -> PricingRate:
    """The agency's own rate for one market and category (per delivered message, USD)."""
    ensure_agency_active(agency)
    if market not in costs.MARKETS:
        raise CampaignError("Choose one of the markets.", "market")
    if category not in costs.CATEGORIES:
        raise CampaignError("Choose marketing, utility or authentication.", "category")
    try:
        value = Decimal(str(rate).strip())
    except (InvalidOperation, ValueError):
        raise CampaignError("Give the rate as a number, e.g. 0.025.", "rate") from None
    if not value.is_finite() or value < 0 or value >= 10:
        raise CampaignError("Give a rate between 0 and 10 per message.", "rate")
    value = value.quantize(Decimal("0.0001"))
    with agency_scope(agency), transaction.atomic():
        previous = PricingRate.objects.filter(market=market, category=category).first()
        before = previous.rate if previous else costs.default_rate(market, category)
        row, _ = PricingRate.objects.update_or_create(
            agency=agency, market=market, category=category, defaults={"rate": value}
        )
        record_event(
            agency_id=agency.pk,
            actor=actor,
            action="campaign.pricing_rate_set",
            target=row,
            changes={"market": market, "category": category, "rate": [str(before), str(value)]},
        )
        events.publish(
            agency_id=agency.pk,
            type=types.PRICING_CHANGED,
            subject={"pricing_rate": row.pk},
            payload={"market": market, "category": category, "rate": str(value)},
        )
    return row


def reset_pricing_rates(*, actor: Actor, agency: Agency) -> int:
    """Back to the defaults; how many of the agency's own rates were removed."""
    ensure_agency_active(agency)
    with agency_scope(agency), transaction.atomic():
        removed, _ = PricingRate.objects.all().delete()
        record_event(
            agency_id=agency.pk,
            actor=actor,
            action="campaign.pricing_rates_reset",
            object_type="campaigns.pricingrate",
            changes={"removed": removed},
        )
        events.publish(
            agency_id=agency.pk,
            type=types.PRICING_CHANGED,
            subject={"agency": agency.pk},
            payload={"reset": True, "removed": removed},
        )
    return removed
