"""Redactions are burned in: the redacted text, a withheld file and a withheld message are
absent from every byte of the package in every format (inside ZIPs, decoded MIME parts and
PDF text layers too), and the exemption code stands where the text was."""

from __future__ import annotations

import pytest

from records.exports.redaction import Redactions, Span, apply_spans
from records.exports.services import FORMATS, build_package, message_display_text
from records.selection import Selection
from tenants.scoping import agency_scope
from tests.records.exports.conftest import SECRET, png_bytes
from tests.records.exports.helpers import containing

pytestmark = pytest.mark.django_db


def _redactions(record) -> Redactions:
    hello = record.messages["hello"]
    with agency_scope(record.agency):
        text = message_display_text(hello)
    start = text.index(SECRET)
    return Redactions(
        text={hello.pk: (Span(start, start + len(SECRET), "(b)(6)"),)},
        media={record.media.pk: "(b)(7)(C)"},
        withheld_messages={record.messages["deleted"].pk: "(b)(5)"},
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_redacted_text_is_in_no_byte_of_the_package(record, tmp_path, fmt):
    package = build_package(
        record.agency.pk, Selection(), fmt, tmp_path, redactions=_redactions(record)
    )

    assert containing(package, b"536-22-1234") == []
    assert containing(package, b"oops wrong chat") == []  # the withheld message
    assert containing(package, png_bytes()) == []  # the withheld file
    assert containing(package, b"licence photo") == []  # nor its name
    assert containing(package, b"[REDACTED (b)(6)]")
    assert containing(package, b"[FILE WITHHELD (b)(7)(C)]")
    assert containing(package, b"[MESSAGE WITHHELD (b)(5)]")


@pytest.mark.parametrize("fmt", FORMATS)
def test_without_redactions_the_same_text_is_there(record, tmp_path, fmt):
    package = build_package(record.agency.pk, Selection(), fmt, tmp_path)

    assert containing(package, b"536-22-1234")
    assert containing(package, b"oops wrong chat")
    if fmt != "pdf":  # the PDF shows the image; the original file is beside it
        assert containing(package, png_bytes())


def test_spans_are_clamped_merged_and_coded_in_place():
    text = "call me at 555-0100 or 555-0199 today"

    redacted, codes = apply_spans(
        text,
        [
            Span(11, 19, "(b)(6)"),
            Span(17, 31, "(b)(7)(C)"),
            Span(30, 999, "(b)(6)"),
            Span(5, 5, "x"),
        ],
    )

    assert redacted == "call me at [REDACTED (b)(6), (b)(7)(C)]"
    assert codes == ["(b)(6)", "(b)(7)(C)"]


def test_the_display_text_is_the_current_version(record):
    with agency_scope(record.agency):
        assert message_display_text(record.messages["edited"]) == (
            "Thanks a lot, From now on I drive"
        )
        assert message_display_text(record.messages["photo"]) == "my licence"
