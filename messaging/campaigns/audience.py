"""Who a campaign goes to: the audience resolved in bulk and checked with the send policy's
rules (``messaging.policy``), without one policy query per recipient.

``resolve(campaign)`` answers with one ``Resolved`` per recipient, in a fixed order (contact
id, or the CSV's row order), each with the reason it is skipped ("" when it will be sent),
its template values and whether its customer-service window is open. It reads, in **one
statement**, the candidates (opted-in contacts filtered by topic, inbox label and contact
attribute; or the rows of an uploaded CSV joined to the agency's contacts), the newest
consent of each of the three topics that decide (general "", the template's topic, and
WhatsApp's own marketing preference), whether the contact is unreachable, and the window
of its conversation with the campaign's number. The verdict is then applied in Python with
the policy's own rule functions (``consent_rule``, ``marketing_turned_off``,
``us_marketing_blocked``), so a campaign and a single send can never disagree.

The newest record decides (``policy.CONSENT_ORDER``: recorded_at, then id); the SQL below
orders the same way. tests/campaigns/test_audience.py checks every consent history against
``policy.check_opt_in``.

The messaging limit (``tier_exceeded``) is not decided here: it depends on the moment of
sending (``messaging.reach``), see ``planning.tier_check`` and the queueing in ``sending``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from messaging import policy
from messaging.campaigns import audience_portable
from messaging.campaigns.models import AudienceUploadRow, Campaign, SkipReason
from templates_mgr.models import MessageTemplate
from templates_mgr.preview import VALUE_MAX, template_variables

CONTACTS, CSV = "contacts", "csv"
SOURCES = (CONTACTS, CSV)
# Contact fields a variable may come from besides its ``attributes`` (the mapping's
# "attribute" source names either one of these or an attribute key).
CONTACT_FIELDS = {"profile_name": "c.profile_name", "phone": "c.phone_e164"}


@dataclass(frozen=True, slots=True)
class Resolved:
    """One recipient of a campaign, with the reason it is skipped ("" = it is sent)."""

    contact_id: int | None
    wa_id: str
    raw: str
    row_number: int | None
    skip_reason: str
    variables: dict[str, str]
    window_open: bool
    name: str = ""


class AudienceError(ValueError):
    """The audience definition cannot be resolved (an admin's mistake, in words)."""


def audience_topic(campaign: Campaign) -> str:
    """The consent topic the campaign's recipients must be opted in to: the template's own
    topic when it has one (that is what the send policy checks), else the audience's."""
    template_topic = campaign.template.topic if campaign.template else ""
    return template_topic or str((campaign.audience or {}).get("topic") or "")


# The newest status of each deciding topic, per contact (policy.CONSENT_ORDER: newest
# recorded_at, then the highest id): DISTINCT ON keeps each (contact, topic)'s newest row,
# then one row per contact. Twice as fast as an ordered array_agg per topic over 150,000
# consent rows (bench/campaign_planning.py), with the same answers.
_LATEST = """
SELECT contact_id,
       max(status) FILTER (WHERE topic = '') AS general,
       max(status) FILTER (WHERE topic = %(topic)s AND %(topic)s <> '') AS specific,
       max(status) FILTER (WHERE topic = %(marketing_topic)s) AS marketing
  FROM (SELECT DISTINCT ON (contact_id, topic) contact_id, topic, status
          FROM messaging_consent
         WHERE agency_id = %(agency)s AND topic = ANY(%(topics)s) {restrict}
         ORDER BY contact_id, topic, recorded_at DESC, id DESC) AS newest
 GROUP BY contact_id
"""

_CONTACTS_SQL = """
WITH latest AS MATERIALIZED ({latest})
SELECT c.id, c.wa_id, c.phone_e164, c.profile_name, c.unreachable_at IS NOT NULL,
       l.general, l.specific, l.marketing,
       COALESCE(cv.window_expires_at > %(now)s, false){values}
  FROM latest l
  JOIN messaging_contact c ON c.id = l.contact_id AND c.agency_id = %(agency)s
  LEFT JOIN messaging_conversation cv
         ON cv.contact_id = c.id AND cv.phone_number_id = %(number)s
 WHERE (l.general IS NOT NULL OR l.specific IS NOT NULL) {filters}
 ORDER BY c.id
 {limit}
"""

_CSV_SQL = """
WITH rows AS MATERIALIZED (
    SELECT r.row_number, r.raw_number, r.wa_id, r.problem, r."values", c.id AS contact_id,
           c.profile_name, c.phone_e164, c.attributes, c.unreachable_at
      FROM campaigns_audienceuploadrow r
      LEFT JOIN messaging_contact c
             ON c.agency_id = %(agency)s AND c.wa_id = r.wa_id AND r.wa_id <> ''
     WHERE r.upload_id = %(upload)s AND r.agency_id = %(agency)s
),
latest AS MATERIALIZED ({latest})
SELECT rows.contact_id, rows.wa_id, rows.raw_number, rows.profile_name,
       rows.unreachable_at IS NOT NULL, l.general, l.specific, l.marketing,
       COALESCE(cv.window_expires_at > %(now)s, false),
       rows.row_number, rows.problem{values}
  FROM rows
  LEFT JOIN latest l ON l.contact_id = rows.contact_id
  LEFT JOIN messaging_conversation cv
         ON cv.contact_id = rows.contact_id AND cv.phone_number_id = %(number)s
 ORDER BY rows.row_number
 {limit}
"""


@dataclass(frozen=True)
class _Mapping:
    """The variable mapping, checked: (variable key, source, value) per template variable."""

    entries: tuple[tuple[str, str, str], ...]

    def attribute_keys(self) -> list[str]:
        return sorted({value for _, source, value in self.entries if source == "attribute"})

    def column_keys(self) -> list[str]:
        return sorted({value for _, source, value in self.entries if source == "column"})


def _mapping(campaign: Campaign, template: MessageTemplate) -> _Mapping:
    mapping = campaign.variable_mapping if isinstance(campaign.variable_mapping, dict) else {}
    entries = []
    for variable in template_variables(template):
        spec = mapping.get(variable.key)
        if isinstance(spec, dict):
            entries.append((variable.key, str(spec.get("source", "")), str(spec.get("value", ""))))
        else:
            entries.append((variable.key, "", ""))
    return _Mapping(tuple(entries))


def _attribute_sql(keys: list[str], params: dict[str, Any], table: str = "c") -> str:
    """One selected column per attribute key the mapping uses (not the whole JSON)."""
    columns = []
    for i, key in enumerate(keys):
        if key in CONTACT_FIELDS and table == "c":
            columns.append(CONTACT_FIELDS[key])
        elif key in CONTACT_FIELDS:
            columns.append(f"{table}.{CONTACT_FIELDS[key].split('.')[1]}")
        else:
            params[f"attr_{i}"] = key
            columns.append(f"{table}.attributes ->> %(attr_{i})s")
    return "".join(f", {column}" for column in columns)


def _column_sql(columns: list[str], params: dict[str, Any]) -> str:
    """One selected text per CSV column the mapping uses: PostgreSQL extracts them, so the
    rows' whole JSON is neither sent nor decoded (a sixth of planning's time at 100,000)."""
    selected = []
    for i, column in enumerate(columns):
        params[f"col_{i}"] = column
        selected.append(f'rows."values" ->> %(col_{i})s')
    return "".join(f", {column}" for column in selected)


def _filters(audience: dict[str, Any], params: dict[str, Any]) -> str:
    clauses = []
    labels = [int(x) for x in audience.get("label_ids") or [] if str(x).isdigit()]
    if labels:
        params["labels"] = labels
        clauses.append(
            "EXISTS (SELECT 1 FROM messaging_conversation lc "
            "JOIN inbox_conversationlabel cl ON cl.conversation_id = lc.id "
            "WHERE lc.contact_id = c.id AND cl.label_id = ANY(%(labels)s))"
        )
    for i, item in enumerate(audience.get("attributes") or []):
        if not isinstance(item, dict) or not str(item.get("key", "")).strip():
            continue
        params[f"fkey_{i}"] = str(item["key"]).strip()
        params[f"fvalue_{i}"] = str(item.get("value", "")).strip()
        clauses.append(f"c.attributes ->> %(fkey_{i})s = %(fvalue_{i})s")
    return "".join(f" AND {clause}" for clause in clauses)


def resolve(
    campaign: Campaign,
    *,
    now: datetime | None = None,
    contact_ids: list[int] | None = None,
    limit: int | None = None,
    portable: bool | None = None,
) -> list[Resolved]:
    """Every recipient of ``campaign`` with its verdict (see the module docstring), in the
    agency's scope. ``contact_ids``: only those contacts (the re-check at queue time);
    ``limit``: the first rows only (previews); ``portable``: through the ORM
    (``audience_portable``), by default only where the database is not PostgreSQL."""
    template = campaign.template
    if template is None:
        raise AudienceError("Choose a template first.")
    audience = campaign.audience if isinstance(campaign.audience, dict) else {}
    source = audience.get("source") or CONTACTS
    if source not in SOURCES:
        raise AudienceError("Choose who receives the campaign.")
    mapping = _mapping(campaign, template)
    topic = audience_topic(campaign)
    params: dict[str, Any] = {
        "agency": campaign.agency_id,
        "number": campaign.phone_number_id,
        "now": now or timezone.now(),
        "topic": topic,
        "marketing_topic": policy.WHATSAPP_MARKETING_TOPIC,
        "topics": sorted({"", topic, policy.WHATSAPP_MARKETING_TOPIC}),
    }
    restrict = ""
    if contact_ids is not None:
        params["contact_ids"] = list(contact_ids)
        restrict = "AND contact_id = ANY(%(contact_ids)s)"
    limit_sql = f"LIMIT {int(limit)}" if limit else ""
    keys, columns = mapping.attribute_keys(), mapping.column_keys()
    if source == CONTACTS:
        sql = _CONTACTS_SQL.format(
            latest=_LATEST.format(restrict=restrict),
            values=_attribute_sql(keys, params),
            filters=_filters(audience, params),
            limit=limit_sql,
        )
    else:
        upload_id = audience.get("upload_id")
        if not str(upload_id or "").isdigit():
            raise AudienceError("Upload the CSV file of the audience first.")
        params["upload"] = int(upload_id)  # type: ignore[arg-type]
        if not restrict:
            restrict = "AND contact_id IN (SELECT contact_id FROM rows)"
        sql = _CSV_SQL.format(
            latest=_LATEST.format(restrict=restrict),
            values=_attribute_sql(keys, params, table="rows") + _column_sql(columns, params),
            limit=limit_sql,
        )
    if portable if portable is not None else connection.vendor != "postgresql":
        rows = _portable_rows(campaign, audience, params, keys, columns, contact_ids, limit)
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    return _verdicts(rows, source == CSV, template, topic, mapping, keys, columns, contact_ids)


def _portable_rows(
    campaign: Campaign,
    audience: dict[str, Any],
    params: dict[str, Any],
    keys: list[str],
    columns: list[str],
    contact_ids: list[int] | None,
    limit: int | None,
) -> list[tuple[Any, ...]]:
    """The statement's rows through the ORM (the demo's SQLite)."""
    common: dict[str, Any] = {
        "agency_id": campaign.agency_id,
        "number_id": campaign.phone_number_id,
        "now": params["now"],
        "topic": params["topic"],
        "marketing_topic": params["marketing_topic"],
        "keys": keys,
        "limit": limit,
    }
    if "upload" in params:
        return audience_portable.csv_rows(upload_id=params["upload"], columns=columns, **common)
    return audience_portable.contact_rows(audience=audience, contact_ids=contact_ids, **common)


def _verdicts(
    rows: list[tuple[Any, ...]],
    csv: bool,
    template: MessageTemplate,
    topic: str,
    mapping: _Mapping,
    keys: list[str],
    columns_used: list[str],
    contact_ids: list[int] | None,
) -> list[Resolved]:
    """The policy's rules applied to each row, first broken rule wins, in the order the
    send path checks them (recipient, marketing preference and destination, consent)."""
    consent_rule, turned_off = policy.consent_rule, policy.marketing_turned_off
    us_blocked = policy.us_marketing_blocked
    # Both marketing rules are about marketing templates only (False for any other): asked
    # per row only when they can apply (a tenth of planning's time for 100,000 rows).
    marketing_rules = template.category == MessageTemplate.Category.MARKETING
    first_extra = 11 if csv else 9
    first_column = first_extra + len(keys)
    wanted = set(contact_ids) if contact_ids is not None else None
    # The codes as plain strings, looked up once (enum attribute access per row was a fifth
    # of the loop's time at 100,000 rows).
    duplicate, invalid = str(SkipReason.DUPLICATE), str(SkipReason.INVALID_NUMBER)
    unreachable_, opted_out = str(SkipReason.UNREACHABLE), str(SkipReason.OPTED_OUT)
    no_opt_in, missing = str(SkipReason.NO_OPT_IN), str(SkipReason.MISSING_VARIABLE)
    marketing_off, us_marketing = str(SkipReason.MARKETING_OPTED_OUT), str(SkipReason.US_MARKETING)
    row_duplicate, rule_opted_out = str(AudienceUploadRow.Problem.DUPLICATE), policy.Rule.OPTED_OUT
    resolved: list[Resolved] = []
    for row in rows:
        contact_id, wa_id, raw, name, unreachable, general, specific, marketing, window = row[:9]
        if csv and wanted is not None and contact_id not in wanted:
            continue
        attributes = dict(zip(keys, row[first_extra:first_column], strict=True))
        if csv:
            row_number, problem = row[9], row[10]
            columns = dict(zip(columns_used, row[first_column:], strict=True))
        else:
            row_number, problem, columns = None, "", {}
            raw = raw or (f"+{wa_id}" if wa_id else "")
        variables, complete = _values(mapping, attributes, columns)
        wa_id = wa_id or ""
        reason: str
        if problem == row_duplicate:
            reason = duplicate
        elif problem or not wa_id:
            reason = invalid
        elif unreachable:
            reason = unreachable_
        elif marketing_rules and turned_off(template, marketing):
            reason = marketing_off
        elif marketing_rules and us_blocked(template, wa_id):
            reason = us_marketing
        elif (rule := consent_rule(general, specific, topic)) is not None:
            reason = opted_out if rule == rule_opted_out else no_opt_in
        elif not complete:
            reason = missing
        else:
            reason = ""
        resolved.append(
            Resolved(
                contact_id,
                wa_id,
                str(raw or "")[:100],
                row_number,
                reason,
                variables,
                bool(window),
                name or "",
            )
        )
    return resolved


def _values(
    mapping: _Mapping, attributes: dict[str, Any], columns: dict[str, Any]
) -> tuple[dict[str, str], bool]:
    """The recipient's template values, and whether every one is there (and within Meta's
    length for a parameter)."""
    values: dict[str, str] = {}
    complete = True
    for key, source, value in mapping.entries:
        found: Any
        if source == "fixed":
            found = value
        elif source == "attribute":
            found = attributes.get(value)
        elif source == "column":
            found = columns.get(value)
        else:
            found = None
        text = "" if found is None else str(found).strip()
        if not text or len(text) > VALUE_MAX:
            complete = False
        values[key] = text
    return values, complete


def mapping_problems(campaign: Campaign) -> list[str]:
    """What is wrong with the variable mapping, in words (empty: nothing)."""
    template = campaign.template
    if template is None:
        return []
    audience = campaign.audience if isinstance(campaign.audience, dict) else {}
    problems = []
    for variable in template_variables(template):
        spec = (campaign.variable_mapping or {}).get(variable.key)
        if not isinstance(spec, dict) or spec.get("source") not in ("attribute", "column", "fixed"):
            problems.append(f"Choose where {variable.label} comes from.")
        elif not str(spec.get("value", "")).strip():
            problems.append(f"Give the value, attribute or column for {variable.label}.")
        elif spec["source"] == "column" and audience.get("source") != CSV:
            problems.append(
                f"{variable.label} comes from a CSV column, but the audience is not a CSV."
            )
    return problems
