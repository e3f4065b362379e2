"""EML (one per conversation per day) and MBOX (mboxrd) parse back with the transcript and
the original files; the PDF/A-2b transcript has its identification, an output intent,
embedded fonts and the image inline."""

from __future__ import annotations

import email
import email.policy
import hashlib
import mailbox

import pikepdf
import pytest

from records.exports.formats.mail import mboxrd_escape
from records.exports.services import build_package
from records.selection import Selection
from tests.records.exports.conftest import png_bytes

pytestmark = pytest.mark.django_db


def test_eml_is_one_message_per_conversation_per_day(record, tmp_path):
    package = build_package(record.agency.pk, Selection(), "eml", tmp_path)

    found = sorted((package / "data/eml").rglob("*.eml"))
    assert [p.relative_to(package / "data/eml").as_posix() for p in found] == [
        f"conversation-{record.conversation.pk}/2026-03-02.eml",
        f"conversation-{record.conversation.pk}/2026-03-03.eml",
    ]
    message = email.message_from_bytes(found[0].read_bytes(), policy=email.policy.default)
    assert message["Date"] == "Mon, 02 Mar 2026 14:00:00 +0000"
    assert message["Message-ID"].endswith("@records.civic-relay.invalid>")
    assert {a.username for a in message["To"].addresses} >= {"14155550100"}
    body = message.get_body(("plain",)).get_content()
    assert "Hello, my SSN 536-22-1234, renew please" in body
    assert "Status: delivered 2026-03-02 14:02:00 UTC, read 2026-03-02 14:03:00 UTC." in body
    (attachment,) = message.iter_attachments()
    assert attachment.get_payload(decode=True) == png_bytes()
    assert b"\r\n" in found[0].read_bytes() and b"\n\n" not in found[0].read_bytes()


def test_mbox_parses_back_message_by_message(record, tmp_path):
    package = build_package(record.agency.pk, Selection(), "mbox", tmp_path)

    (path,) = (package / "data/mbox").glob("*.mbox")
    box = mailbox.mbox(str(path))
    subjects = [m["Subject"] for m in box]
    assert len(subjects) == 2
    assert b"\r\n" not in path.read_bytes()
    assert path.read_bytes().startswith(b"From civic-relay@dmv Mon Mar  2 14:00:00 2026\n")


def test_mboxrd_quotes_from_lines():
    text = b"From me\n>From you\nnot From here\n>>From them\n"

    assert mboxrd_escape(text) == b">From me\n>>From you\nnot From here\n>>>From them\n"


def test_the_pdf_is_pdfa_with_fonts_embedded_and_the_image_inline(record, tmp_path):
    package = build_package(record.agency.pk, Selection(), "pdf", tmp_path)

    (path,) = (package / "data/pdf").glob("*.pdf")
    with pikepdf.open(path) as pdf:
        meta = pdf.open_metadata()
        assert meta.pdfa_status == "2B"
        intents = pdf.Root.OutputIntents
        assert intents[0].S == "/GTS_PDFA1"
        assert "/DestOutputProfile" in intents[0]
        fonts = [f for page in pdf.pages for f in page.Resources.Font.values()]
        assert fonts
        for font in fonts:
            descriptor = (
                font.DescendantFonts[0].FontDescriptor
                if "/DescendantFonts" in font
                else font.FontDescriptor
            )
            assert "/FontFile2" in descriptor  # embedded TrueType
        images = [
            x
            for page in pdf.pages
            for x in page.Resources.get("/XObject", {}).values()
            if x.Subtype == "/Image"
        ]
        assert len(images) == 1
    # the original file is beside the transcript
    assert (
        hashlib.sha256(
            (package / f"data/media/{record.media.pk}_licence_photo.png").read_bytes()
        ).hexdigest()
        == record.media.sha256
    )


def test_a_pdf_built_later_has_the_same_bytes(record, tmp_path, time_machine):
    time_machine.move_to("2027-01-01T00:00:00Z")
    first = build_package(record.agency.pk, Selection(), "pdf", tmp_path / "a")
    time_machine.move_to("2028-06-01T12:34:56Z")
    second = build_package(record.agency.pk, Selection(), "pdf", tmp_path / "b")

    (a,) = (first / "data/pdf").glob("*.pdf")
    (b,) = (second / "data/pdf").glob("*.pdf")
    assert a.read_bytes() == b.read_bytes()
    assert b"2027-01-01" not in a.read_bytes()  # no time of the run in the file
