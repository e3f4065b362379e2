"""``manage.py records_verify_export PACKAGE [--public-key PEM]``: verify an export package
offline (hashes, signature); exit 1 with the first problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from records.exports.verify import PackageProblem, trusted_keys, verify_package


class Command(BaseCommand):
    help = "Verify an export package (directory or ZIP): manifests, hashes and signature."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("package", help="the package directory or its ZIP")
        parser.add_argument(
            "--public-key",
            default="",
            help="a PEM file of the public key to trust (else the configured records keys)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            pem = Path(options["public_key"]).read_bytes() if options["public_key"] else None
            keys = trusted_keys(pem)
        except (OSError, ValueError, PackageProblem, ImproperlyConfigured) as error:
            raise CommandError(f"no key to verify with: {error}") from None
        report = verify_package(Path(options["package"]), keys)
        if not report.ok:
            self.stderr.write(f"BROKEN {options['package']}: {report.problem}")
            raise SystemExit(1)
        self.stdout.write(
            f"OK {options['package']}: {report.files} files match the manifest, "
            f"signed by key {report.key_id}"
        )
