"""The records signing key: outside the database, rotatable, published."""

from __future__ import annotations

import base64
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError

from records import signing

TEXT = "civic-relay.records/agency/1\n3\nAAAA\n"


def test_a_signed_note_opens_with_its_key():
    note, key_id = signing.sign_note(TEXT)
    assert note.startswith(TEXT + "\n\u2014 civic-relay-records ")
    assert signing.open_note(note, key_id) == TEXT


def test_an_edited_statement_no_longer_opens():
    note, key_id = signing.sign_note(TEXT)
    with pytest.raises(signing.SignatureError, match="does not match"):
        signing.open_note(note.replace("\n3\n", "\n4\n"), key_id)


def test_a_note_signed_by_an_unconfigured_key_is_refused(settings, tmp_path):
    note, key_id = signing.sign_note(TEXT)
    other = tmp_path / "other.pem"
    signing.write_new_key(other)
    settings.RECORDS_SIGNING_KEY_FILE = str(other)
    with pytest.raises(signing.SignatureError, match="not configured"):
        signing.open_note(note, key_id)


def test_after_a_rotation_old_notes_verify_with_the_retired_public_key(
    settings, tmp_path, records_key_and_archive
):
    old_note, old_id = signing.sign_note(TEXT)
    old_public = signing.public_keys()[0].pem
    new = tmp_path / "new.pem"
    signing.write_new_key(new)
    settings.RECORDS_SIGNING_KEY_FILE = str(new)
    settings.RECORDS_RETIRED_PUBLIC_KEYS = [old_public]

    new_note, new_id = signing.sign_note(TEXT)

    assert new_id != old_id
    assert signing.open_note(old_note, old_id) == TEXT
    assert signing.open_note(new_note, new_id) == TEXT
    assert [(k.key_id, k.current) for k in signing.public_keys()] == [
        (new_id, True),
        (old_id, False),
    ]


def test_without_a_key_the_error_says_which_setting_to_set(settings):
    settings.RECORDS_SIGNING_KEY_FILE = ""
    with pytest.raises(ImproperlyConfigured, match="RECORDS_SIGNING_KEY_FILE"):
        signing.sign_note(TEXT)


def test_an_inline_base64_seed_is_accepted(settings):
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    settings.RECORDS_SIGNING_KEY = base64.b64encode(seed).decode()
    assert signing.current_key_id() == signing.key_id(key.public_key())


def test_a_key_that_is_not_ed25519_is_refused(settings):
    settings.RECORDS_SIGNING_KEY = base64.b64encode(b"short").decode()
    with pytest.raises(ImproperlyConfigured, match="not an Ed25519 private key"):
        signing.current_key_id()


def test_the_demo_generates_its_key_on_first_use_readable_by_its_owner_only(settings, tmp_path):
    path = tmp_path / "var" / "records-signing-key.pem"
    settings.RECORDS_SIGNING_KEY_FILE = str(path)
    settings.RECORDS_SIGNING_KEY_GENERATE = True
    first = signing.current_key_id()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signing.current_key_id() == first  # the same file, not a new key each time


def test_without_generation_a_missing_key_file_is_an_error(settings, tmp_path):
    settings.RECORDS_SIGNING_KEY_FILE = str(tmp_path / "absent.pem")
    settings.RECORDS_SIGNING_KEY_GENERATE = False
    with pytest.raises(ImproperlyConfigured, match=r"absent\.pem"):
        signing.current_key_id()


def test_keygen_writes_a_new_key_and_never_overwrites_one(tmp_path, capsys):
    path = tmp_path / "k.pem"
    call_command("records_keygen", str(path))
    out = capsys.readouterr().out
    assert "key id: " in out and "BEGIN PUBLIC KEY" in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(CommandError, match="never overwritten"):
        call_command("records_keygen", str(path))


def test_the_note_verifier_key_is_in_the_signed_note_format():
    key = signing.public_keys()[0]
    name, key_hash, encoded = signing.note_verifier_key(key).split("+", 2)
    assert name == "civic-relay-records"
    assert base64.b64decode(encoded) == b"\x01" + key.raw
    note, _ = signing.sign_note(TEXT)
    signature_line = note.rstrip("\n").rsplit("\n", 1)[1]
    assert base64.b64decode(signature_line.split(" ")[2])[:4].hex() == key_hash


@pytest.mark.urls("records.urls")
def test_the_public_keys_are_published_at_a_well_known_url(client, settings, tmp_path):
    retired = signing.public_keys()[0]
    new = tmp_path / "new.pem"
    signing.write_new_key(new)
    settings.RECORDS_SIGNING_KEY_FILE = str(new)
    settings.RECORDS_RETIRED_PUBLIC_KEYS = [retired.pem]

    response = client.get("/.well-known/civic-relay-records-key")

    assert response.status_code == 200
    keys = response.json()["keys"]
    assert [(k["key_id"], k["current"]) for k in keys] == [
        (signing.current_key_id(), True),
        (retired.key_id, False),
    ]
    assert keys[1]["public_key_pem"] == retired.pem
    assert "PRIVATE" not in response.content.decode()


def test_openssl_verifies_the_signature_of_a_note(tmp_path):
    """An independent Ed25519 implementation accepts what we sign (RFC 8032 signatures over
    the note's text, as the signed-note format defines)."""
    import shutil
    import subprocess

    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed to cross-check the signatures"
    note, _ = signing.sign_note(TEXT)
    blob = base64.b64decode(note.rstrip("\n").rsplit(" ", 1)[1])
    (tmp_path / "pub.pem").write_text(signing.public_keys()[0].pem)
    (tmp_path / "text").write_bytes(TEXT.encode())
    (tmp_path / "sig").write_bytes(blob[4:])

    def verify(text: bytes) -> subprocess.CompletedProcess[bytes]:
        (tmp_path / "text").write_bytes(text)
        return subprocess.run(
            [
                openssl,
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                str(tmp_path / "pub.pem"),
                "-rawin",
                "-in",
                str(tmp_path / "text"),
                "-sigfile",
                str(tmp_path / "sig"),
            ],
            capture_output=True,
            check=False,
        )

    assert verify(TEXT.encode()).returncode == 0
    assert verify(TEXT.replace("3", "4").encode()).returncode != 0
