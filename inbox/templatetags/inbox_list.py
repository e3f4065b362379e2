"""Filters of the conversation list: filter links, capped counts."""

from __future__ import annotations

from typing import Any

from django import template

from inbox.selectors import Filters

register = template.Library()

_VIEW_TITLES = {"mine": "Assigned to me", "unassigned": "Unassigned", "all": "All conversations"}


@register.filter
def inbox_query(filters: Filters, change: str) -> str:
    """``filters|inbox_query:"view=mine"``: the query string with one filter changed (a
    link keeps the other filters, and starts again from the first page)."""
    name, _, value = change.partition("=")
    return filters.query(**{name: value})


@register.filter
def capped(count: int, cap: int) -> str:
    return f"{cap}+" if count >= cap else str(count)


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, 0)


@register.filter
def view_title(view: str) -> str:
    return _VIEW_TITLES.get(view, "Conversations")
