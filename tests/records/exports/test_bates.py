"""Bates numbers: prefix and a zero-padded counter, one per message (per page in PDFs),
without gaps, starting where asked."""

from __future__ import annotations

import io
import json

import pypdf
import pytest

from records.exports.services import build_package
from records.selection import Selection

pytestmark = pytest.mark.django_db


def test_each_message_gets_the_next_number(record, tmp_path):
    package = build_package(
        record.agency.pk, Selection(), "jsonl", tmp_path, bates_prefix="DMV-", bates_start=41
    )

    lines = (package / "data/messages.jsonl").read_text().splitlines()
    assert [json.loads(line)["bates"] for line in lines] == [f"DMV-{n:07d}" for n in range(41, 47)]
    assert "Bates-Range: DMV-0000041 to DMV-0000046" in (package / "bag-info.txt").read_text()


def test_every_pdf_page_is_stamped(record, tmp_path):
    package = build_package(record.agency.pk, Selection(), "pdf", tmp_path, bates_prefix="FOIA")

    (pdf,) = (package / "data/pdf").glob("*.pdf")
    reader = pypdf.PdfReader(io.BytesIO(pdf.read_bytes()))
    for number, page in enumerate(reader.pages, start=1):
        assert f"FOIA{number:07d}" in page.extract_text()


def test_eml_headers_carry_the_range(record, tmp_path):
    package = build_package(record.agency.pk, Selection(), "eml", tmp_path, bates_prefix="B")

    first_day = sorted((package / "data/eml").rglob("*.eml"))[0].read_bytes()
    assert b"X-Bates-Begin: B0000001\r\n" in first_day
    assert b"X-Bates-End: B0000005\r\n" in first_day
