"""The package: deterministic bytes, a BagIt manifest of every file, a detached Ed25519
signature with the platform's key, offline verification, an audit event and a stream
event; the commands for scripts and operators."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command

from bsp.events.models import DomainEvent
from records.exports.package import zip_package
from records.exports.services import FORMATS, build_package
from records.exports.verify import trusted_keys, verify_package
from records.models import AuditEvent
from records.selection import Selection
from tenants.scoping import agency_scope
from tests.records.exports.helpers import containing, files

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_selection_gives_byte_identical_packages(record, tmp_path, fmt):
    first = build_package(record.agency.pk, Selection(), fmt, tmp_path / "a", bates_prefix="X")
    second = build_package(record.agency.pk, Selection(), fmt, tmp_path / "b", bates_prefix="X")

    assert first.name == second.name
    assert files(first) == files(second)
    assert zip_package(first, tmp_path / "a.zip").read_bytes() == (
        zip_package(second, tmp_path / "b.zip").read_bytes()
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_package_verifies_offline(record, tmp_path, fmt):
    package = build_package(record.agency.pk, Selection(), fmt, tmp_path)

    report = verify_package(package, trusted_keys())

    assert report.ok, report.problem
    manifest = (package / "manifest-sha256.txt").read_text().splitlines()
    payload = sorted(
        p.relative_to(package).as_posix() for p in (package / "data").rglob("*") if p.is_file()
    )
    assert sorted(line.split("  ", 1)[1] for line in manifest) == payload


def test_the_zip_verifies_too(record, tmp_path):
    package = build_package(record.agency.pk, Selection(), "jsonl", tmp_path)

    assert verify_package(zip_package(package, tmp_path / "p.zip"), trusted_keys()).ok


def test_an_edited_payload_file_is_named(record, tmp_path):
    package = build_package(record.agency.pk, Selection(), "csv", tmp_path)
    csv_file = package / "data/messages.csv"
    csv_file.write_bytes(csv_file.read_bytes().replace(b"renew", b"RENEW"))

    report = verify_package(package, trusted_keys())

    assert not report.ok
    assert report.problem == "data/messages.csv does not match its SHA-256 in manifest-sha256.txt"


def test_a_file_slipped_in_is_found(record, tmp_path):
    package = build_package(record.agency.pk, Selection(), "csv", tmp_path)
    (package / "data/extra.txt").write_text("hello")

    assert verify_package(package, trusted_keys()).problem == (
        "data/extra.txt is not in manifest-sha256.txt"
    )


def test_a_rewritten_manifest_breaks_the_signature(record, tmp_path):
    package = build_package(record.agency.pk, Selection(), "csv", tmp_path)
    csv_file = package / "data/messages.csv"
    csv_file.write_bytes(csv_file.read_bytes().replace(b"renew", b"RENEW"))
    # The forger recomputes both manifests but cannot sign.
    manifest = "".join(
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(package).as_posix()}\n"
        for p in sorted((package / "data").rglob("*"))
        if p.is_file()
    )
    (package / "manifest-sha256.txt").write_text(manifest)
    tags = "".join(
        f"{hashlib.sha256((package / n).read_bytes()).hexdigest()}  {n}\n"
        for n in ("bag-info.txt", "bagit.txt", "manifest-sha256.txt")
    )
    (package / "tagmanifest-sha256.txt").write_text(tags)

    assert verify_package(package, trusted_keys()).problem == (
        "the signature does not match tagmanifest-sha256.txt"
    )


def test_a_key_the_verifier_does_not_trust_is_refused(record, tmp_path):
    package = build_package(record.agency.pk, Selection(), "jsonl", tmp_path)
    stranger = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )

    report = verify_package(package, trusted_keys(stranger))

    assert not report.ok
    assert "which is not a trusted key" in report.problem


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_checks_the_signature(record, tmp_path, records_key_and_archive):
    package = build_package(record.agency.pk, Selection(), "jsonl", tmp_path)
    private = serialization.load_pem_private_key(records_key_and_archive.read_bytes(), None)
    public = tmp_path / "key.pem"
    public.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )

    result = subprocess.run(
        [
            "openssl",
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            str(public),
            "-rawin",
            "-in",
            str(package / "tagmanifest-sha256.txt"),
            "-sigfile",
            str(package / "tagmanifest-sha256.txt.sig"),
        ],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert "Signature Verified Successfully" in result.stdout


def test_the_export_is_an_audit_event_and_on_the_stream(record, tmp_path):
    package = build_package(
        record.agency.pk, Selection(conversation_id=record.conversation.pk), "rsmf", tmp_path
    )

    with agency_scope(record.agency):
        event = AuditEvent.objects.get(action="records.export_built")
        published = DomainEvent.objects.filter(type="export.changed").get()
    assert event.object_id == package.name
    assert event.changes["messages"] == 6
    assert event.changes["selection"] == {"conversation_id": record.conversation.pk}
    tag_hash = event.changes["tagmanifest_sha256"]
    assert hashlib.sha256((package / "tagmanifest-sha256.txt").read_bytes()).hexdigest() == tag_hash
    assert published.subject == {"package": package.name}
    assert published.payload["status"] == "built"


def test_another_agencys_messages_are_never_exported(record, tmp_path):
    package = build_package(record.agency.pk, Selection(), "jsonl", tmp_path)

    assert containing(package, b"other agency secret") == []


def test_the_command_prints_the_package_path_and_its_verifier_says_ok(record, tmp_path):
    out = StringIO()
    call_command(
        "records_export",
        "--agency",
        "dmv",
        "--format",
        "mbox",
        "--out",
        str(tmp_path),
        "--contact",
        "+1 (415) 555-0100",
        "--since",
        "2026-03-02",
        "--until",
        "2026-03-03",
        stdout=out,
    )
    package = Path(out.getvalue().strip())
    assert package.is_dir()
    assert "Civic-Relay-Messages: 5" in (package / "bag-info.txt").read_text()

    verified = StringIO()
    call_command("records_verify_export", str(package), stdout=verified)
    assert verified.getvalue().startswith(f"OK {package}: ")


def test_the_verifier_exits_non_zero_with_the_first_problem(record, tmp_path, capsys):
    package = build_package(record.agency.pk, Selection(), "csv", tmp_path)
    (package / "tagmanifest-sha256.txt.sig").write_bytes(b"\0" * 64)

    with pytest.raises(SystemExit) as exit_:
        call_command("records_verify_export", str(package))

    assert exit_.value.code == 1
    assert "the signature does not match tagmanifest-sha256.txt" in capsys.readouterr().err


def test_the_command_refuses_an_unknown_agency_and_a_bad_date(record, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no agency with slug 'nope'"):
        call_command(
            "records_export", "--agency", "nope", "--format", "csv", "--out", str(tmp_path)
        )
    with pytest.raises(CommandError, match="is not a date"):
        call_command(
            "records_export",
            "--agency",
            "dmv",
            "--format",
            "csv",
            "--out",
            str(tmp_path),
            "--since",
            "yesterday",
        )
