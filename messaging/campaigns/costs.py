"""What a campaign will cost: Meta's per-message pricing (since 1 July 2025), by pricing
category and the recipient's market, at rates the agency can edit.

Meta charges each *delivered template message* (cloud-api.md §9): marketing always;
utility only outside an open customer-service window (free inside one); authentication
always. The rate depends on the recipient's country, grouped into Meta's markets. The
defaults below approximate Meta's published USD rate card of July 2025; rates change and
volume tiers lower utility and authentication rates, so each agency keeps its own
(``PricingRate`` rows override a default; ``services.set_pricing_rate``). The estimate is an
upper bound: a message that is never delivered is not charged.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import phonenumbers

from messaging.campaigns.models import PricingRate
from templates_mgr.models import MessageTemplate

Category = MessageTemplate.Category
CURRENCY = "USD"

# Meta's markets (its rate card's rows) and the regions in each; anything else is "other".
MARKETS: dict[str, str] = {
    "north_america": "North America (US, Canada)",
    "mexico": "Mexico",
    "brazil": "Brazil",
    "colombia": "Colombia",
    "argentina": "Argentina",
    "rest_of_latin_america": "Rest of Latin America",
    "united_kingdom": "United Kingdom",
    "india": "India",
    "rest_of_western_europe": "Western Europe",
    "other": "Other countries",
}
_REGIONS: dict[str, str] = {
    "US": "north_america",
    "CA": "north_america",
    "PR": "north_america",
    "MX": "mexico",
    "BR": "brazil",
    "CO": "colombia",
    "AR": "argentina",
    "GB": "united_kingdom",
    "IN": "india",
    **dict.fromkeys(
        ["BO", "CL", "CR", "DO", "EC", "SV", "GT", "HN", "NI", "PA", "PY", "PE", "UY", "VE"],
        "rest_of_latin_america",
    ),
    **dict.fromkeys(
        ["AT", "BE", "DK", "FI", "FR", "DE", "GR", "IE", "IT", "NL", "NO", "PT", "ES", "SE", "CH"],
        "rest_of_western_europe",
    ),
}
# (marketing, utility, authentication) per message, USD — approximately Meta's July 2025 card.
DEFAULT_RATES: dict[str, tuple[str, str, str]] = {
    "north_america": ("0.0250", "0.0040", "0.0135"),
    "mexico": ("0.0305", "0.0085", "0.0239"),
    "brazil": ("0.0625", "0.0068", "0.0315"),
    "colombia": ("0.0125", "0.0002", "0.0077"),
    "argentina": ("0.0618", "0.0260", "0.0367"),
    "rest_of_latin_america": ("0.0740", "0.0113", "0.0449"),
    "united_kingdom": ("0.0529", "0.0220", "0.0358"),
    "india": ("0.0107", "0.0014", "0.0014"),
    "rest_of_western_europe": ("0.0592", "0.0300", "0.0400"),
    "other": ("0.0604", "0.0077", "0.0280"),
}
CATEGORIES = (Category.MARKETING, Category.UTILITY, Category.AUTHENTICATION)


def default_rate(market: str, category: str) -> Decimal:
    rates = DEFAULT_RATES.get(market, DEFAULT_RATES["other"])
    return Decimal(rates[CATEGORIES.index(Category(category))])


def rates_for(agency_id: int) -> dict[tuple[str, str], Decimal]:
    """Every (market, category) rate of the agency: its overrides over the defaults."""
    rates = {
        (market, str(category)): default_rate(market, category)
        for market in MARKETS
        for category in CATEGORIES
    }
    for market, category, rate in PricingRate.objects.filter(agency_id=agency_id).values_list(
        "market", "category", "rate"
    ):
        if (market, category) in rates:
            rates[(market, category)] = rate
    return rates


@functools.cache
def _market_of_prefix(prefix: str) -> str:
    """The market of numbers starting with these (up to 4) digits. Calling codes are
    prefix-free, and +1's regions are decided by the area code: four digits are enough."""
    for length in (1, 2, 3):
        code = int(prefix[:length]) if prefix[:length].isdigit() else 0
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code)
        if not regions:
            continue
        if code == 1:
            try:
                number = phonenumbers.parse(f"+{prefix}2345678", None)
                region = phonenumbers.region_code_for_number(number) or "US"
            except phonenumbers.NumberParseException:
                region = "US"
        else:
            region = regions[0]
        return _REGIONS.get(region, "other")
    return "other"


def market_of(wa_id: str) -> str:
    return _market_of_prefix(wa_id[:4])


@dataclass(frozen=True)
class CostLine:
    category: str
    label: str
    market: str
    market_label: str
    count: int  # messages in this category and market
    free: int  # of which free (utility inside the customer-service window)
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True)
class CostEstimate:
    lines: tuple[CostLine, ...]
    total: Decimal
    currency: str
    free: int

    @property
    def by_category(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for line in self.lines:
            totals[line.category] = totals.get(line.category, Decimal("0")) + line.amount
        return totals


def estimate(agency_id: int, category: str, recipients: Iterable[tuple[str, bool]]) -> CostEstimate:
    """The cost of sending a ``category`` template to ``recipients`` ((wa_id, window open)
    pairs): grouped by market, at the agency's rates."""
    charged: Counter[str] = Counter()
    free: Counter[str] = Counter()
    for wa_id, window_open in recipients:
        market = market_of(wa_id)
        if category == Category.UTILITY and window_open:
            free[market] += 1
        else:
            charged[market] += 1
    rates = rates_for(agency_id)
    lines = []
    for market in sorted(set(charged) | set(free), key=list(MARKETS).index):
        rate = rates[(market, str(category))]
        amount = (rate * charged[market]).quantize(Decimal("0.01"))
        lines.append(
            CostLine(
                str(category),
                Category(category).label,
                market,
                MARKETS[market],
                charged[market] + free[market],
                free[market],
                rate,
                amount,
            )
        )
    total = sum((line.amount for line in lines), Decimal("0.00"))
    return CostEstimate(tuple(lines), total, CURRENCY, sum(free.values()))
