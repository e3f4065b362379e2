from __future__ import annotations

from typing import Any

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()

# The USWDS class of each Django widget type (``BoundField.widget_type``); a text-like
# input is ``usa-input``.
_USWDS_WIDGET_CLASSES = {
    "select": "usa-select",
    "selectmultiple": "usa-select",
    "textarea": "usa-textarea",
    "checkbox": "usa-checkbox__input",
    "clearablefile": "usa-file-input",
    "file": "usa-file-input",
}


@register.filter
def change_display(value: Any) -> str:
    """An audit ``changes`` value: ``[old, new]`` pairs read as "old → new"."""
    if isinstance(value, list) and len(value) == 2:
        return f"{value[0] or '(empty)'} → {value[1] or '(empty)'}"
    if value in ("", None, [], {}):
        return "(empty)"
    return str(value)


@register.filter
def uswds_widget(field: BoundField) -> SafeString:
    """The field's widget with its USWDS class (and the error variant when it is invalid),
    keeping the classes the form gave it and Django's aria-invalid/aria-describedby."""
    if field.widget_type in ("radioselect", "checkboxselectmultiple"):
        # USWDS draws these through a label per option that Django's markup lacks: they
        # stay native controls, visible and operable.
        return SafeString(str(field))
    uswds_class = _USWDS_WIDGET_CLASSES.get(field.widget_type, "usa-input")
    classes = [field.field.widget.attrs.get("class", ""), uswds_class]
    if field.errors and uswds_class in ("usa-input", "usa-select", "usa-textarea"):
        classes.append("usa-input--error")  # USWDS's one error variant, for all three
    return field.as_widget(attrs={"class": " ".join(c for c in classes if c)})
