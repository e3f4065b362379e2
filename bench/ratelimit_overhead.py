"""Cost of the Redis rate limiter per call (not a test).

Measures, in one run against the local Redis, calls per second of a bare ``PING`` round trip
(the baseline: no limiter can beat one round trip), of ``ThroughputLimiter.acquire`` taking one
token per call, and of batch acquisitions of 50 tokens. The tier rate is set far above what
one client can reach, so every call is granted and takes the full script path. Prints the
median of several runs and the ratio to the baseline.

    .venv/bin/python bench/ratelimit_overhead.py [--runs 5] [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import redis

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import _setup

from messaging.ratelimit import ThroughputLimiter, penalty_key, throughput_key

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9")
UNLIMITED = 1e9  # msg/s: the bucket never runs dry, so no call is refused
BATCH = 50


def calls_per_second(call: Callable[[], object], seconds: float) -> float:
    count, started = 0, time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        call()
        count += 1
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0, help="per measurement")
    args = parser.parse_args()

    client = redis.Redis.from_url(REDIS_URL)
    limiter = ThroughputLimiter(client)
    phone = f"bench-{uuid.uuid4().hex}"
    measures: dict[str, Callable[[], object]] = {
        "ping": client.ping,
        "single": lambda: limiter.acquire(phone, UNLIMITED),
        "batch": lambda: limiter.acquire(phone, UNLIMITED, n=BATCH),
    }
    for call in measures.values():
        call()  # connect and load the script before timing
    runs: dict[str, list[float]] = {name: [] for name in measures}
    try:
        # Interleaved, so a load change on the machine hits all three alike.
        for _ in range(args.runs):
            for name, call in measures.items():
                runs[name].append(calls_per_second(call, args.seconds))
    finally:
        client.delete(throughput_key(phone), penalty_key(phone))

    ping, single, batch = (_setup.median_of(runs[name]) for name in measures)
    print(f"Machine: {_setup.machine()}; median of {args.runs} runs of {args.seconds:g} s")
    _setup.report("acquire(n=1)", single, "calls/s", "Redis PING", ping)
    _setup.report(f"acquire(n={BATCH})", batch, "calls/s", "Redis PING", ping)
    print(f"acquire(n={BATCH}) grants {batch * BATCH:,.0f} tokens/s from one client", flush=True)


if __name__ == "__main__":
    main()
