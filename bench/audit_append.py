"""Audit trail append rate: hash-chained, lock-serialized record_event vs a bare INSERT.

Prints events/s for one writer, and for 4 concurrent writers on one agency (serialized by
the chain lock) and on 4 agencies (independent chains). Median of 5 runs each.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup

EVENTS = 400


def main() -> list[str]:
    _setup.prepare_database(
        extra_sql=[
            "CREATE TABLE bench_plain (id bigserial PRIMARY KEY, payload text)",
            "GRANT SELECT, INSERT ON bench_plain TO civic_app",
            "GRANT USAGE ON SEQUENCE bench_plain_id_seq TO civic_app",
        ]
    )
    _setup.setup_django()
    from django.db import connection, transaction

    from records.audit import Actor, record_event
    from tenants.models import Agency

    agencies = [Agency.objects.create(name=f"Bench {i}", slug=f"bench-{i}") for i in range(4)]
    actor = Actor.system("bench")

    def bare_inserts(agency: Agency, n: int) -> None:
        """One committed INSERT of a row of similar size into a table without RLS."""
        payload = "x" * 400
        for _ in range(n):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("INSERT INTO bench_plain (payload) VALUES (%s)", [payload])

    def audited(agency: Agency, n: int) -> None:
        for i in range(n):
            with transaction.atomic():
                record_event(
                    agency_id=agency.pk, actor=actor, action="bench.event", changes={"i": i}
                )

    def rate(work, targets: list[Agency], n: int) -> float:
        def run(agency: Agency) -> None:
            try:
                work(agency, n)
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=(a,)) for a in targets]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return len(targets) * n / (time.perf_counter() - start)

    def median(work, targets, n=EVENTS) -> float:
        return _setup.median_of([rate(work, targets, n) for _ in range(5)])

    baseline = median(bare_inserts, agencies[:1])
    lines = [
        _setup.report(
            "audit append, 1 writer",
            median(audited, agencies[:1]),
            "events/s",
            "plain INSERT+commit, 1 writer",
            baseline,
        ),
        _setup.report(
            "audit append, 4 writers, 1 agency",
            median(audited, [agencies[0]] * 4, EVENTS // 4),
            "events/s",
            "plain INSERT+commit, 1 writer",
            baseline,
        ),
        _setup.report(
            "audit append, 4 writers, 4 agencies",
            median(audited, agencies, EVENTS // 4),
            "events/s",
            "plain INSERT+commit, 1 writer",
            baseline,
        ),
    ]
    return lines


if __name__ == "__main__":
    main()
