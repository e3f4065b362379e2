"""Create a records signing key (Ed25519, PKCS#8 PEM) in a new file readable by its owner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from records.signing import PublicKey, key_id, note_verifier_key, write_new_key


class Command(BaseCommand):
    help = "Write a new Ed25519 records signing key to PATH (never overwrites a file)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="where to write the private key (a new file)")

    def handle(self, *args: Any, path: str, **options: Any) -> None:
        try:
            key = write_new_key(Path(path))
        except FileExistsError:
            raise CommandError(f"{path} exists: a signing key is never overwritten.") from None
        public = PublicKey(key.public_key(), key_id(key.public_key()), current=True)
        self.stdout.write(f"key id: {public.key_id}")
        self.stdout.write(f"signed-note verifier key: {note_verifier_key(public)}")
        self.stdout.write(public.pem.rstrip())
