"""JSON Lines (the canonical schema, ``canonical.py``) and CSV (RFC 4180: CRLF line
ends, fields quoted when needed, a header row, one row per message), each beside the
original media files under ``data/media/``."""

from __future__ import annotations

import csv
import io

from records.exports.canonical import CSV_COLUMNS, csv_row, jsonl_line
from records.exports.formats.base import Context, Writer, attachment_name, open_media
from records.exports.package import Bag, HashingFile
from records.exports.reader import Item


class MediaCopier:
    """Copies each stored, not withheld file once into ``data/media/``."""

    def __init__(self, bag: Bag, context: Context) -> None:
        self.bag = bag
        self.context = context

    def place(self, item: Item) -> None:
        media = item.media
        if media is None or media.withheld:
            return
        relative = f"media/{attachment_name(media)}"
        if self.bag.has(relative):
            media.path = relative
            return
        source = open_media(media)
        if source is None:
            self.context.missing_media += 1
            return
        with source:
            self.bag.add_stream(relative, source)
        media.path = relative


class _Flat(Writer):
    name = ""

    def __init__(self, bag: Bag, context: Context) -> None:
        super().__init__(bag, context)
        self.media = MediaCopier(bag, context)
        self._writing = bag.open(self.name)
        self.out: HashingFile = self._writing.__enter__()
        self._buffer: list[bytes] = []

    def _emit(self, data: bytes) -> None:
        self._buffer.append(data)
        if len(self._buffer) >= 500:
            self.out.write(b"".join(self._buffer))
            self._buffer = []

    def close(self) -> None:
        if self._buffer:
            self.out.write(b"".join(self._buffer))
        self._writing.__exit__(None, None, None)


class JsonLinesWriter(_Flat):
    name = "messages.jsonl"

    def add(self, item: Item) -> None:
        item.bates = self.context.next_bates()
        self.media.place(item)
        self._emit(jsonl_line(item))


class CsvWriter(_Flat):
    name = "messages.csv"

    def __init__(self, bag: Bag, context: Context) -> None:
        super().__init__(bag, context)
        self._text = io.StringIO()
        self._csv = csv.writer(self._text, lineterminator="\r\n")
        self._csv.writerow(CSV_COLUMNS)
        self._flush_text()

    def _flush_text(self) -> None:
        self._emit(self._text.getvalue().encode())
        self._text.seek(0)
        self._text.truncate()

    def add(self, item: Item) -> None:
        item.bates = self.context.next_bates()
        self.media.place(item)
        self._csv.writerow(csv_row(item))
        self._flush_text()
