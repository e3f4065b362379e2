"""CSV import of 100,000 opt-ins: the preview (read, normalise, check states, store the
rows) and the commit (contacts, consents, audit, events, in batches), each the median of 3
runs on a fresh agency, beside a baseline measured in the same run: the file parsed and
every number normalised with no database at all (the floor the preview cannot beat).

Target (issue 11): preview + commit of 100,000 rows under 60 s on this machine.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# Its own database: other benchmarks may run beside it.
os.environ.setdefault("CIVIC_BENCH_DB", "civic_relay_bench_consent")
import _setup

ROWS = 100_000
RUNS = 3


def the_file(rows: int = ROWS) -> bytes:
    """Numbers as people write them, a name and one evidence column."""
    lines = [
        f"+1 (202) {200 + n // 10000:03d}-{n % 10000:04d},Citizen {n},F-{n}\n" for n in range(rows)
    ]
    return ("phone,name,form\n" + "".join(lines)).encode()


def main() -> list[str]:
    _setup.prepare_database()
    _setup.setup_django()
    from messaging.consent import imports
    from records.audit import Actor
    from tenants.models import Agency
    from tenants.scoping import agency_scope, system_scope

    raw = the_file()
    actor = Actor.system("bench")

    def parse_only() -> float:
        started = time.perf_counter()
        parsed = imports.read_file(raw)
        for row in parsed.rows:
            imports.to_wa_id(row.phone, "US")
        return time.perf_counter() - started

    def one_import(run: int) -> tuple[float, float]:
        with system_scope():
            agency = Agency.objects.create(name=f"Bench {run}", slug=f"bench-import-{run}")
        with agency_scope(agency):
            started = time.perf_counter()
            consent_import = imports.preview(
                actor=actor, agency=agency, user=None, filename="list.csv", raw=raw
            )
            previewed = time.perf_counter()
            imports.start_commit(actor=actor, consent_import=consent_import)
            imports.commit(consent_import.pk)
            committed = time.perf_counter()
            consent_import.refresh_from_db()
        if consent_import.counts != {"opted_in": ROWS}:
            raise SystemExit(f"wrong outcome: {consent_import.counts}")
        return previewed - started, committed - previewed

    baseline = _setup.median_of([parse_only() for _ in range(RUNS)]) * 1000
    runs = [one_import(n) for n in range(RUNS)]
    preview = _setup.median_of([p for p, _ in runs]) * 1000
    commit = _setup.median_of([c for _, c in runs]) * 1000
    total = _setup.median_of([p + c for p, c in runs]) * 1000
    parse = "parse + normalise only (no database)"
    return [
        _setup.report(f"import preview, {ROWS:,} rows", preview, "ms", parse, baseline),
        _setup.report(f"import commit, {ROWS:,} rows", commit, "ms", parse, baseline),
        _setup.report(f"import preview + commit, {ROWS:,} rows", total, "ms", "target", 60_000),
    ]


if __name__ == "__main__":
    main()
