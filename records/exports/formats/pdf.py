"""PDF/A-2b transcripts: one per conversation, ``data/pdf/conversation-<id>.pdf``.

Human-readable: a heading with the conversation's parties, then each message with its
time, sender and direction, its text, images inline (other files named with their size
and SHA-256), edits, deletion and delivery. Fonts (DejaVu Sans, from the system's
``fonts-dejavu-core``; ``RECORDS_EXPORT_FONT_DIR`` to change) are embedded and subset;
the XMP metadata carries the PDF/A identification and the file an sRGB output intent
(fpdf2's ``enforce_compliance="PDF/A-2B"``). With a Bates prefix, every page is stamped
with its number (continuing across the package's PDFs); redactions are burned in: the
text is never in the file, the code stands where it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import re
from pathlib import Path
from typing import Any, Final

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from fpdf import FPDF

from records.exports.canonical import sender
from records.exports.formats.base import (
    Context,
    Writer,
    clean_text,
    direction_word,
    media_label,
    read_media,
    stamp,
)
from records.exports.formats.flat import MediaCopier
from records.exports.package import Bag
from records.exports.reader import Item

DEFAULT_FONT_DIR: Final = "/usr/share/fonts/truetype/dejavu"
IMAGE_TYPES: Final = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
logging.getLogger("fpdf").setLevel(logging.ERROR)  # one warning per glyph the font lacks
logging.getLogger("fontTools").setLevel(logging.WARNING)  # subsetting chatter


def font_files() -> tuple[Path, Path]:
    folder = Path(str(getattr(settings, "RECORDS_EXPORT_FONT_DIR", "") or DEFAULT_FONT_DIR))
    regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
    if not regular.exists() or not bold.exists():
        raise ImproperlyConfigured(
            f"PDF exports need DejaVuSans.ttf and DejaVuSans-Bold.ttf in {folder} "
            "(Debian: apt-get install fonts-dejavu-core; or set RECORDS_EXPORT_FONT_DIR)"
        )
    return regular, bold


_XMP_DATE: Final = re.compile(rb'xmp:(CreateDate|ModifyDate|MetadataDate)="([^"]*)"')


def _fixed_dates(data: bytes) -> bytes:
    """fpdf2 stamps the XMP's ModifyDate and MetadataDate with the time of the run: they
    become the transcript's date (the first message's), as CreateDate is. Same length, so
    the cross-reference offsets stay right."""
    found = {m.group(1): m.group(2) for m in _XMP_DATE.finditer(data)}
    created = found.get(b"CreateDate")
    if not created:
        return data

    def same(match: re.Match[bytes]) -> bytes:
        value = match.group(2)
        if len(value) != len(created):
            return match.group(0)
        return b"xmp:" + match.group(1) + b'="' + created + b'"'

    return _XMP_DATE.sub(same, data)


class _Transcript(FPDF):
    def __init__(self, context: Context, heading: str) -> None:
        super().__init__(format="Letter", enforce_compliance="PDF/A-2B")
        self.context = context
        self.heading = heading
        self.first_bates = context.bates_next
        regular, bold = font_files()
        self.add_font("DejaVu", "", str(regular))
        self.add_font("DejaVu", "B", str(bold))
        self.set_auto_page_break(True, margin=18)
        self.set_margins(18, 16, 18)
        self.seed = hashlib.sha256(heading.encode())

    def file_id(self) -> str:
        """The /ID from the transcript's content (fpdf2's hashes bytes holding the time of
        the run)."""
        digest = self.seed.hexdigest()[:32].upper()
        return f"<{digest}><{digest}>"

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font("DejaVu", "", 8)
        self.set_text_color(60, 60, 60)
        left = self.heading
        if self.context.bates_prefix is not None:
            number = self.first_bates + self.page_no() - 1
            right = f"{self.context.bates_prefix}{number:07d}"
        else:
            right = f"Page {self.page_no()}"
        self.cell(self.epw * 0.7, 5, left[:90])
        self.cell(self.epw * 0.3, 5, right, align="R")


class PdfWriter(Writer):
    order = "thread"
    stamps_messages = False

    def __init__(self, bag: Bag, context: Context) -> None:
        super().__init__(bag, context)
        self.media = MediaCopier(bag, context)
        self._pdf: _Transcript | None = None
        self._conversation: int | None = None
        self._last: dt.datetime | None = None

    def add(self, item: Item) -> None:
        if item.conversation_id != self._conversation:
            self._finish()
            self._start(item)
        self.media.place(item)
        self._entry(item)
        self._last = item.at

    def close(self) -> None:
        self._finish()

    def _start(self, item: Item) -> None:
        self._conversation = item.conversation_id
        who = item.contact_name or item.contact_phone or item.contact_wa_id
        number = f"{item.business_name} ({item.business_number})".strip()
        heading = f"WhatsApp conversation {item.conversation_id}: {who} and {number}"
        pdf = _Transcript(
            self.context, f"{self.context.agency_name} — conversation {item.conversation_id}"
        )
        pdf.set_title(self.context.title or heading)
        pdf.set_author(self.context.agency_name)
        pdf.set_subject(heading)
        pdf.set_creator("Civic Relay records exports")
        pdf.set_lang("en")
        pdf.set_creation_date(item.at.astimezone(dt.UTC).replace(microsecond=0))
        pdf.add_page()
        pdf.set_font("DejaVu", "B", 14)
        pdf.multi_cell(0, 7, clean_text(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)
        lines = [f"Agency: {self.context.agency_name}", "Times are UTC."]
        if self.context.title:
            lines.insert(0, self.context.title)
        pdf.multi_cell(0, 5, clean_text("\n".join(lines)), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        self._pdf = pdf

    def _entry(self, item: Item) -> None:
        pdf = self._current()
        pdf.seed.update(f"{item.id}\0{item.bates}\0{item.text}\0".encode())
        pdf.set_font("DejaVu", "B", 9)
        pdf.set_text_color(20, 20, 20)
        who = sender(item)["display"]
        pdf.multi_cell(
            0,
            5,
            clean_text(f"{stamp(item.at)} — {who} ({direction_word(item)})"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_font("DejaVu", "", 10)
        if item.type == "reaction" and not item.withheld:
            body = (
                f"Reacted {item.reaction_emoji} to message {item.reaction_to}"
                if item.reaction_emoji
                else "Removed a reaction"
            )
        else:
            body = item.text
        if body:
            pdf.multi_cell(0, 5, clean_text(body), new_x="LMARGIN", new_y="NEXT")
        notes = []
        if item.reply_to and not item.withheld:
            notes.append(f"In reply to {item.reply_to}")
        media = item.media
        if media is not None and not self._image(media):
            notes.append(media_label(media))
        if item.edits:
            notes.append("Edited. Earlier versions:")
            notes += [f"  [{at}] {' '.join(clean_text(text).split())}" for at, text in item.edits]
        elif item.edits_withheld:
            notes.append("Edited. Earlier versions withheld with the redaction.")
        if item.revoked_at is not None:
            notes.append(f"Deleted for everyone by the sender at {stamp(item.revoked_at)}.")
        if item.direction == "out" and not item.withheld:
            for name, moment in (("Delivered", item.delivered_at), ("Read", item.read_at)):
                if moment is not None:
                    notes.append(f"{name} {stamp(moment)}")
        if notes:
            pdf.set_font("DejaVu", "", 8)
            pdf.set_text_color(70, 70, 70)
            pdf.multi_cell(0, 4, clean_text("\n".join(notes)), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    def _image(self, media: Any) -> bool:
        pdf = self._current()
        if media.withheld or media.mime_type.split(";")[0].strip() not in IMAGE_TYPES:
            return False
        data = read_media(media, limit=20 << 20)
        if data is None:
            return False
        try:
            pdf.image(io.BytesIO(data), w=70, keep_aspect_ratio=True, h=90)
        except Exception:
            return False
        pdf.set_font("DejaVu", "", 8)
        pdf.multi_cell(0, 4, clean_text(media_label(media)), new_x="LMARGIN", new_y="NEXT")
        return True

    def _current(self) -> _Transcript:
        if self._pdf is None:
            raise RuntimeError("no transcript is open")
        return self._pdf

    def _finish(self) -> None:
        pdf = self._pdf
        if pdf is None:
            return
        data = _fixed_dates(bytes(pdf.output()))
        pages = pdf.page_no()
        if self.context.bates_prefix is not None:
            first = self.context.next_bates()
            self.context.bates_next += pages - 1
            last = f"{self.context.bates_prefix}{self.context.bates_next - 1:07d}"
            self.context.bates_first = self.context.bates_first or first
            self.context.bates_last = last
        self.bag.write_bytes(f"pdf/conversation-{self._conversation}.pdf", data)
        self._pdf = None
