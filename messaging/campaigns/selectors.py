"""The campaigns' reads. Progress comes from the counters the stream consumer keeps
(``CampaignStats``), never from counting the messages table per request; a recipient's
delivery state is its message's status (joined)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from messaging.campaigns import costs
from messaging.campaigns.models import (
    AudienceUpload,
    AudienceUploadRow,
    Campaign,
    CampaignRecipient,
    CampaignStats,
    PricingRate,
)
from messaging.campaigns.services import PROBLEMS_SHOWN, RowProblem
from messaging.models import Message
from templates_mgr.models import MessageTemplate
from tenants.models import Agency, PhoneNumber
from tenants.scoping import agency_scope

R = CampaignRecipient.Status
M = Message.Status


def campaign_list(agency: Agency, status: str | None = None) -> QuerySet[Campaign]:
    with agency_scope(agency):
        rows = Campaign.objects.select_related("stats", "template", "phone_number", "created_by")
        if status:
            rows = rows.filter(status=status)
        return rows.order_by("-created_at", "-pk")


def campaign(agency: Agency, pk: int) -> Campaign:
    """The agency's campaign (Campaign.DoesNotExist for another agency's id: a 404)."""
    with agency_scope(agency):
        return Campaign.objects.select_related("template", "phone_number__waba", "created_by").get(
            pk=pk
        )


def approved_templates(number: PhoneNumber) -> QuerySet[MessageTemplate]:
    """The templates a campaign on ``number`` can send (approved, on its WABA)."""
    with agency_scope(number.agency_id):
        return MessageTemplate.objects.filter(
            waba_id=number.waba_id, status=MessageTemplate.Status.APPROVED
        ).order_by("name", "language")


def upload(agency: Agency, pk: int) -> AudienceUpload | None:
    with agency_scope(agency):
        return AudienceUpload.objects.filter(pk=pk).first()


def upload_problems(upload: AudienceUpload, limit: int = PROBLEMS_SHOWN) -> Iterator[RowProblem]:
    with agency_scope(upload.agency_id):
        rows = (
            AudienceUploadRow.objects.filter(upload=upload)
            .exclude(problem="")
            .order_by("row_number")
            .values_list("row_number", "raw_number", "problem")[:limit]
        )
        found = list(rows)
    for row_number, raw, problem in found:
        yield RowProblem(row_number, raw, problem, AudienceUploadRow.Problem(problem).label)


@dataclass(frozen=True)
class Progress:
    recipients: int
    queued: int  # waiting to be sent (queued or being sent)
    held: int  # paused
    sent: int  # handed to WhatsApp (accepted or sent), not yet delivered
    delivered: int  # delivered, not read
    read: int
    failed: int
    skipped: int
    cancelled: int
    skipped_by_reason: dict[str, int]
    failed_by_reason: dict[str, int]

    @property
    def to_send(self) -> int:
        return max(0, self.recipients - self.skipped)

    @property
    def reached_whatsapp(self) -> int:
        return self.sent + self.delivered + self.read

    @property
    def percent_done(self) -> int:
        done = self.reached_whatsapp + self.failed + self.cancelled
        return 100 if not self.to_send else min(100, round(100 * done / self.to_send))


def _progress(stats: CampaignStats | None) -> Progress:
    if stats is None:
        return Progress(0, 0, 0, 0, 0, 0, 0, 0, 0, {}, {})
    return Progress(
        recipients=stats.recipients,
        queued=max(0, stats.queued),
        held=max(0, stats.held),
        sent=max(0, stats.accepted + stats.sent),
        delivered=max(0, stats.delivered),
        read=max(0, stats.read),
        failed=max(0, stats.failed),
        skipped=stats.skipped,
        cancelled=max(0, stats.cancelled),
        skipped_by_reason=dict(stats.skipped_by_reason or {}),
        failed_by_reason=dict(stats.failed_by_reason or {}),
    )


def campaign_progress(campaign: Campaign) -> Progress:
    """The campaign's totals from its counters (one row by its key; read fresh each time,
    never from a cached relation, since the consumer keeps changing it)."""
    with agency_scope(campaign.agency_id):
        return _progress(CampaignStats.objects.filter(campaign_id=campaign.pk).first())


# --- Recipients ------------------------------------------------------------------------------

# What the recipients' filter offers, and how each reads.
RECIPIENT_FILTERS: dict[str, str] = {
    "pending": "Waiting to be queued",
    "queued": "Queued",
    "sent": "Sent",
    "delivered": "Delivered",
    "read": "Read",
    "failed": "Failed",
    "skipped": "Skipped",
    "cancelled": "Cancelled",
}
_MESSAGE_STATES: dict[str, tuple[str, ...]] = {
    "queued": (M.QUEUED, M.SENDING, M.HELD),
    "sent": (M.ACCEPTED, M.SENT),
    "delivered": (M.DELIVERED,),
    "read": (M.READ,),
    "failed": (M.FAILED,),
}
_WORDS = {
    M.QUEUED: "Queued",
    M.SENDING: "Sending",
    M.HELD: "Held (campaign paused)",
    M.ACCEPTED: "Sent",
    M.SENT: "Sent",
    M.DELIVERED: "Delivered",
    M.READ: "Read",
    M.FAILED: "Failed",
    M.CANCELLED: "Cancelled",
}


@dataclass(frozen=True)
class RecipientRow:
    id: int
    wa_id: str
    name: str
    status: str
    status_label: str
    reason: str
    raw: str = ""
    row_number: int | None = None
    sent_at: Any = None
    delivered_at: Any = None
    read_at: Any = None


@dataclass(frozen=True)
class RecipientPage:
    rows: list[RecipientRow]
    next_cursor: int | None


def _status(row: dict[str, Any]) -> tuple[str, str, str]:
    """(status code, words, reason) of one recipient."""
    if row["status"] == R.SKIPPED:
        reason = row["skip_reason"]
        label = CampaignRecipient(skip_reason=reason).skip_reason_label if reason else ""
        return "skipped", "Skipped", label
    if row["status"] in (R.PENDING, R.CANCELLED) or row["message__status"] is None:
        return str(row["status"]), R(row["status"]).label, ""
    status = row["message__status"]
    code = next((k for k, v in _MESSAGE_STATES.items() if status in v), str(status))
    if status == M.CANCELLED:
        code = "cancelled"
    reason = row["message__error_reason"] or ""
    if status == M.FAILED and row["message__error_code"]:
        reason = (
            f"{reason} ({row['message__error_code']})"
            if reason
            else str(row["message__error_code"])
        )
    return code, _WORDS.get(status, str(status)), reason


_FIELDS = (
    "pk",
    "wa_id",
    "raw",
    "row_number",
    "status",
    "skip_reason",
    "contact__profile_name",
    "message__status",
    "message__error_code",
    "message__error_reason",
    "message__sent_at",
    "message__delivered_at",
    "message__read_at",
)


def _filtered(campaign: Campaign, status: str | None) -> QuerySet[CampaignRecipient]:
    rows = CampaignRecipient.objects.filter(campaign=campaign)
    if status in ("pending", "skipped"):
        rows = rows.filter(status=status)
    elif status == "cancelled":
        rows = rows.filter(status=R.CANCELLED) | rows.filter(message__status=M.CANCELLED)
    elif status in _MESSAGE_STATES:
        rows = rows.filter(status=R.QUEUED, message__status__in=_MESSAGE_STATES[status])
    return rows


def _row(row: dict[str, Any]) -> RecipientRow:
    code, words, reason = _status(row)
    return RecipientRow(
        id=row["pk"],
        wa_id=row["wa_id"],
        name=row["contact__profile_name"] or "",
        status=code,
        status_label=words,
        reason=reason,
        raw=row["raw"],
        row_number=row["row_number"],
        sent_at=row["message__sent_at"],
        delivered_at=row["message__delivered_at"],
        read_at=row["message__read_at"],
    )


def recipients(
    campaign: Campaign, status: str | None = None, cursor: int | None = None, limit: int = 50
) -> RecipientPage:
    """One page of recipients in order (keyset on the id: ``cursor`` is the last id seen)."""
    with agency_scope(campaign.agency_id):
        rows = _filtered(campaign, status if status in RECIPIENT_FILTERS else None)
        if cursor:
            rows = rows.filter(pk__gt=cursor)
        found = list(rows.order_by("pk").values(*_FIELDS)[: limit + 1])
    page = [_row(row) for row in found[:limit]]
    more = len(found) > limit
    return RecipientPage(page, page[-1].id if more and page else None)


REPORT_HEADER = [
    "Recipient",
    "Name",
    "Input",
    "CSV row",
    "Status",
    "Reason",
    "Sent at",
    "Delivered at",
    "Read at",
]


def report_csv_rows(campaign: Campaign, batch: int = 5000) -> Iterator[list[str]]:
    """The campaign's report, header first, every recipient (streamed in keyset batches).
    Cells are plain values; the view guards them against formula injection."""
    yield REPORT_HEADER
    cursor = 0
    while True:
        with agency_scope(campaign.agency_id):
            found = list(
                CampaignRecipient.objects.filter(campaign=campaign, pk__gt=cursor)
                .order_by("pk")
                .values(*_FIELDS)[:batch]
            )
        for raw in found:
            row = _row(raw)
            yield [
                f"+{row.wa_id}" if row.wa_id else "",
                row.name,
                row.raw,
                "" if row.row_number is None else str(row.row_number),
                row.status_label,
                row.reason,
                *(
                    "" if at is None else at.isoformat()
                    for at in (row.sent_at, row.delivered_at, row.read_at)
                ),
            ]
        if len(found) < batch:
            return
        cursor = found[-1]["pk"]


# --- Pricing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateRow:
    market: str
    market_label: str
    category: str
    rate: Decimal
    default: Decimal
    currency: str
    overridden: bool


def pricing_table(agency: Agency) -> list[RateRow]:
    """Every market and category with the agency's rate (its own, else the default)."""
    with agency_scope(agency):
        own = {(r.market, r.category): r for r in PricingRate.objects.filter(agency_id=agency.pk)}
    rows = []
    for market, label in costs.MARKETS.items():
        for category in costs.CATEGORIES:
            default = costs.default_rate(market, category)
            mine = own.get((market, str(category)))
            rows.append(
                RateRow(
                    market,
                    label,
                    str(category),
                    mine.rate if mine else default,
                    default,
                    mine.currency if mine else costs.CURRENCY,
                    mine is not None,
                )
            )
    return rows
