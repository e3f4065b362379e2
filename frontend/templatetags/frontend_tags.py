from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def change_display(value: Any) -> str:
    """An audit ``changes`` value: ``[old, new]`` pairs read as "old → new"."""
    if isinstance(value, list) and len(value) == 2:
        return f"{value[0] or '(empty)'} → {value[1] or '(empty)'}"
    if value in ("", None, [], {}):
        return "(empty)"
    return str(value)
