"""The demo's settings (``bsp.settings.dev``): a product on SQLite, not a debug session.

Each test runs the demo's own settings in a subprocess, on a scratch ``var/``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_CONCURRENT_WRITERS = """
import json, threading
import django
django.setup()
from django.db import connection, connections, transaction

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE tally (writer integer)")
has_read = [threading.Event(), threading.Event()]
errors = []

def write(me):
    other = 1 - me
    try:
        # What web and worker do all day: read, then write, in one transaction.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM tally")
            has_read[me].set()
            has_read[other].wait(timeout=2)  # both read first, if the database lets them
            cursor.execute("INSERT INTO tally VALUES (%s)", [me])
    except Exception as exc:
        errors.append(str(exc))
    finally:
        connections.close_all()

threads = [threading.Thread(target=write, args=(me,)) for me in (0, 1)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM tally")
    rows = cursor.fetchone()[0]
    cursor.execute("PRAGMA journal_mode")
    journal = cursor.fetchone()[0]
    cursor.execute("PRAGMA busy_timeout")
    busy_timeout = cursor.fetchone()[0]
print(json.dumps({"errors": errors, "rows": rows, "journal": journal, "busy_ms": busy_timeout}))
"""

_SETTINGS = """
import json
import django
django.setup()
from django.conf import settings
print(json.dumps({
    "debug": settings.DEBUG,
    "control_folder": settings.CELERY_BROKER_TRANSPORT_OPTIONS["control_folder"],
}))
"""


def _run_demo_settings(code: str, var_dir: Path) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "CELERY_", "DJANGO_", "DEBUG"))
    }
    env.update(DJANGO_SETTINGS_MODULE="bsp.settings.dev", BSP_VAR_DIR=str(var_dir))
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_two_demo_writers_that_read_first_both_commit_instead_of_database_is_locked(tmp_path):
    outcome = _run_demo_settings(_CONCURRENT_WRITERS, tmp_path)
    assert outcome["errors"] == []
    assert outcome["rows"] == 2


def test_the_demo_database_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    outcome = _run_demo_settings(_CONCURRENT_WRITERS, tmp_path)
    assert outcome["journal"] == "wal"
    assert outcome["busy_ms"] >= 10_000


def test_the_demo_runs_without_debug_and_keeps_the_broker_control_folder_under_var(tmp_path):
    settings = _run_demo_settings(_SETTINGS, tmp_path)
    assert settings["debug"] is False
    assert Path(settings["control_folder"]) == tmp_path / "broker" / "control"
