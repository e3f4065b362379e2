"""Shared benchmark setup: a fresh PostgreSQL database, migrated by the owner role and
used by the application role, exactly as in production (RLS on)."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A benchmark that may run beside others (each recreates its database) names its own.
BENCH_DB = os.environ.get("CIVIC_BENCH_DB", "civic_relay_bench")
ADMIN_URL = os.environ.get("DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
HOST = "127.0.0.1:5432"


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bsp.settings.bench",
        DATABASE_URL=f"postgres://civic_app@{HOST}/{BENCH_DB}",
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"),
    )
    return env


def prepare_database(extra_sql: list[str] | None = None) -> None:
    """Recreate the bench database and migrate it as civic_owner (plus any extra DDL)."""
    import psycopg

    sys.path.insert(0, str(ROOT))
    from tenants.db.roles import ROLES_SQL

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(ROLES_SQL)
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB} OWNER civic_owner")
    env = bench_env() | {"DATABASE_URL": f"postgres://civic_owner@{HOST}/{BENCH_DB}"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    if extra_sql:
        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
            for sql in extra_sql:
                conn.execute(sql)


def setup_django() -> None:
    os.environ.update(bench_env())
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def median_of(runs: list[float]) -> float:
    return statistics.median(runs)


def report(name: str, figure: float, unit: str, baseline_name: str, baseline: float) -> str:
    ratio = figure / baseline if baseline else float("nan")
    line = (
        f"{name}: {figure:,.0f} {unit} | baseline {baseline_name}: {baseline:,.0f} {unit} "
        f"| ratio {ratio:.2f}"
    )
    print(line, flush=True)
    return line


def vacuum(*tables: str) -> None:
    """What autovacuum would do between runs. This machine's PostgreSQL runs with autovacuum
    off, so without it every run pays for the dead rows of all earlier ones (in the send
    benchmark PostgreSQL's CPU per message grew from 0.08 ms in the first drain to 0.28 ms
    in the sixth)."""
    import psycopg

    owner_url = f"postgres://civic_owner@{HOST}/{BENCH_DB}"
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_celery_worker(
    queues: str, concurrency: int, **env_overrides: str
) -> subprocess.Popen[bytes]:
    """A real prefork worker on the bench database and Redis, in its own process group."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "bsp",
            "worker",
            f"--queues={queues}",
            f"--concurrency={concurrency}",
            "--pool=prefork",
            "--loglevel=WARNING",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            f"--hostname={queues}@%h",
        ],
        cwd=ROOT,
        env={**bench_env(), **env_overrides},
        start_new_session=True,
    )
