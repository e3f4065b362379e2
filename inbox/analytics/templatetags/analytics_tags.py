"""Figures in words for the analytics and supervisor pages: durations and rates."""

from __future__ import annotations

from datetime import timedelta

from django import template

register = template.Library()
NO_FIGURE = "\u2013"  # an en dash


@register.filter
def duration(value: float | timedelta | None) -> str:
    """``4 min 12 s``, ``2 h 5 min``, ``3 d 4 h``; an en dash for no figure."""
    if value is None:
        return NO_FIGURE
    seconds = round(value.total_seconds() if isinstance(value, timedelta) else value)
    seconds = max(0, seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@register.filter
def percent(value: float | None) -> str:
    """A rate (0…1) as ``97.5 %``; an en dash for no figure."""
    if value is None:
        return NO_FIGURE
    return f"{value * 100:.1f} %"
