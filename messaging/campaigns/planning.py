"""Before sending: who gets the campaign, who is skipped and why, what it costs, and whether
it fits the portfolio's messaging limit (read-only; nothing is written).

``plan_campaign`` resolves the whole audience in one statement (``audience.resolve``) and
asks ``messaging.reach`` once for the new people among the business-initiated recipients,
so planning 100,000 recipients takes seconds, not 100,000 policy checks
(bench/campaign_planning.py)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from messaging import policy, reach
from messaging.campaigns import costs
from messaging.campaigns.audience import AudienceError, Resolved, mapping_problems, resolve
from messaging.campaigns.models import Campaign, SkipReason
from templates_mgr.models import MessageTemplate
from templates_mgr.preview import PreviewModel, render_preview
from tenants.scoping import agency_scope


@dataclass(frozen=True)
class Sample:
    wa_id: str
    raw: str
    contact_id: int | None
    row_number: int | None
    label: str


@dataclass(frozen=True)
class TierCheck:
    """The messaging limit against this campaign: ``needed`` new people (business-initiated
    recipients not already reached in the last 24 h), ``remaining`` the portfolio can still
    reach now (None: unlimited)."""

    limit: int | None
    remaining: int | None
    needed: int

    @property
    def fits(self) -> bool:
        return self.remaining is None or self.needed <= self.remaining

    @property
    def days_needed(self) -> int:
        """Days a split campaign takes (each day at most the limit's new people)."""
        if self.fits or not self.limit:
            return 1
        beyond_today = self.needed - (self.remaining or 0)
        return 1 + math.ceil(beyond_today / self.limit)

    @property
    def refusal(self) -> str:
        return (
            f"This campaign would reach {self.needed:,} people who have not had a message in "
            f"the last 24 hours, but the daily messaging limit ({self.limit:,} people in 24 "
            f"hours) leaves {self.remaining or 0:,} now. Send it split across "
            f"{self.days_needed} days, or narrow the audience."
        )


@dataclass(frozen=True)
class Plan:
    total: int
    will_send: int
    skipped: dict[str, int]
    skipped_samples: dict[str, list[Sample]]
    cost: costs.CostEstimate | None
    tier: TierCheck | None
    problems: list[str] = field(default_factory=list)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    @property
    def skipped_rows(self) -> list[tuple[str, str, int, list[Sample]]]:
        """(code, words, count, samples) in the order of SkipReason, for the review page."""
        return [
            (code, SkipReason(code).label, self.skipped[code], self.skipped_samples.get(code, []))
            for code in SkipReason.values
            if self.skipped.get(code)
        ]


def template_problems(template: MessageTemplate | None) -> list[str]:
    if template is None:
        return ["Choose an approved template."]
    if template.status != MessageTemplate.Status.APPROVED:
        return [
            f"The template “{template.name}” ({template.language}) is "
            f"{template.get_status_display().lower()}; only approved templates can be sent."
        ]
    return []


def tier_check(campaign: Campaign, sendable: list[Resolved], now: datetime) -> TierCheck:
    """Only business-initiated recipients (window closed) count, and only the ones the
    portfolio has not reached in the last 24 h."""
    portfolio_id = campaign.phone_number.waba.portfolio_id
    business_initiated = [r.contact_id for r in sendable if not r.window_open and r.contact_id]
    needed = len(reach.not_reached(portfolio_id, business_initiated, now))
    return TierCheck(reach.limit_for(portfolio_id), reach.remaining(portfolio_id, now), needed)


def plan_campaign(campaign: Campaign, *, now: datetime | None = None, sample: int = 5) -> Plan:
    now = now or timezone.now()
    with agency_scope(campaign.agency_id):
        problems = template_problems(campaign.template) + mapping_problems(campaign)
        try:
            rows = resolve(campaign, now=now)
        except AudienceError as exc:
            return Plan(0, 0, {}, {}, None, None, [*problems, str(exc)])
        skipped: Counter[str] = Counter()
        samples: defaultdict[str, list[Sample]] = defaultdict(list)
        sendable: list[Resolved] = []
        # The send's own trial-mode rule (services' chunk screen skips the same recipients).
        trial = policy.trial_recipients(campaign.agency) if campaign.agency.in_trial else None
        for row in rows:
            reason = row.skip_reason
            if not reason and trial is not None and row.wa_id not in trial:
                reason = SkipReason.TRIAL_RECIPIENT.value
            if not reason:
                sendable.append(row)
                continue
            skipped[reason] += 1
            if len(samples[reason]) < sample:
                label = SkipReason(reason).label
                samples[reason].append(
                    Sample(row.wa_id, row.raw, row.contact_id, row.row_number, label)
                )
        template = campaign.template
        if template is None:  # resolve() refused it already; for the type checker
            return Plan(0, 0, {}, {}, None, None, problems)
        estimate = costs.estimate(
            campaign.agency_id, template.category, ((r.wa_id, r.window_open) for r in sendable)
        )
        tier = tier_check(campaign, sendable, now)
        if not rows:
            problems.append("Nobody is in this audience yet.")
        elif not sendable:
            problems.append("Everyone in this audience would be skipped.")
    return Plan(len(rows), len(sendable), dict(skipped), dict(samples), estimate, tier, problems)


@dataclass(frozen=True)
class RecipientPreview:
    wa_id: str
    name: str
    values: dict[str, str]
    preview: PreviewModel


def preview_recipients(campaign: Campaign, n: int = 3) -> list[RecipientPreview]:
    """The template as the first ``n`` real recipients who will get it would see it."""
    template = campaign.template
    if template is None:
        return []
    with agency_scope(campaign.agency_id):
        try:
            rows = resolve(campaign, limit=max(50, n * 20))
        except AudienceError:
            return []
    chosen = [row for row in rows if not row.skip_reason][:n]
    return [
        RecipientPreview(
            row.wa_id, row.name, row.variables, render_preview(template, row.variables)
        )
        for row in chosen
    ]
