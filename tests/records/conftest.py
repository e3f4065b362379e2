"""Records tests sign with a throw-away key and archive into a temporary directory."""

from __future__ import annotations

import pytest

from records.signing import write_new_key


@pytest.fixture(autouse=True)
def records_key_and_archive(settings, tmp_path):
    key_file = tmp_path / "records-signing-key.pem"
    write_new_key(key_file)
    settings.RECORDS_SIGNING_KEY = ""
    settings.RECORDS_SIGNING_KEY_FILE = str(key_file)
    settings.RECORDS_RETIRED_PUBLIC_KEYS = []
    settings.RECORDS_ARCHIVE_BACKEND = "local"
    settings.RECORDS_ARCHIVE_DIR = str(tmp_path / "archive")
    return key_file
