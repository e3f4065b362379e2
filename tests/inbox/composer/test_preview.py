"""templates_mgr.preview: the variables a template needs, and what the citizen will see."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

from templates_mgr.models import MessageTemplate
from templates_mgr.preview import render_preview, template_variables
from tests.inbox.composer.factories import case_update_components


def _template(components, fmt=MessageTemplate.ParameterFormat.POSITIONAL) -> MessageTemplate:
    return MessageTemplate(
        name="case_update", language="en_US", components=components, parameter_format=fmt
    )


def test_each_variable_is_listed_once_with_its_example():
    variables = template_variables(_template(case_update_components()))

    assert [(v.key, v.example) for v in variables] == [
        ("header_1", "A-1"),
        ("var_1", "Ana"),
        ("var_2", "A-1"),
        ("button_0", ""),
    ]


def test_a_media_header_asks_for_a_link_of_its_kind():
    components = [{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "See above."}]

    (header,) = template_variables(_template(components))

    assert (header.key, header.media_kind) == ("header_media", "image")


def test_the_preview_fills_every_part_and_lists_what_is_missing():
    preview = render_preview(
        _template(case_update_components()), {"var_1": "Ana", "button_0": "B-7"}
    )

    assert "".join(s.text for s in preview.body) == "Hello Ana, your case {{2}} was updated."
    assert preview.buttons[0].target == "https://city.example.gov/cases/B-7"
    assert preview.missing == ("{{1}}", "{{2}}")  # the header's and the body's second
    assert not preview.complete


def test_the_rendered_preview_escapes_values_and_keeps_line_breaks_of_the_template():
    components = [{"type": "BODY", "text": "Dear {{name}},\nwelcome."}]
    template = _template(components, MessageTemplate.ParameterFormat.NAMED)
    preview = render_preview(template, {"var_name": '<img src=x onerror="alert(1)">'})

    html = render_to_string("templates_mgr/preview.html", {"preview": preview})

    assert "<img" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert ",<br>welcome." in html


@pytest.mark.parametrize("components", [None, "nonsense", [1, "x", {"type": 3}], [{}]])
def test_malformed_components_preview_as_empty_not_an_error(components):
    preview = render_preview(_template(components), {})

    assert preview.body == ()
    assert template_variables(_template(components)) == []
