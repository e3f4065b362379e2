"""Real processes for tests that need them: Celery workers, gunicorn, a throwaway Redis.

They see the test database (tests using them need ``django_db(transaction=True)`` so that
rows are committed) and run the test settings."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def django_env(**overrides: str) -> dict[str, str]:
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bsp.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "GRAPH_API_BASE_URL": settings.GRAPH_API_BASE_URL,
        "GRAPH_API_VERSION": settings.GRAPH_API_VERSION,
        **overrides,
    }


def _spawn(args: list[str], env: dict[str, str], output: Any = None) -> subprocess.Popen:
    """``output``: a file to capture stdout and stderr in (tests that read the logs)."""
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=output or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if output else subprocess.DEVNULL,
    )


def start_worker(
    queues: str,
    env: dict[str, str],
    concurrency: int = 1,
    output: Any = None,
    loglevel: str = "WARNING",
) -> subprocess.Popen:
    return _spawn(
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
            f"--loglevel={loglevel}",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ],
        env,
        output,
    )


def start_web(
    port: int, env: dict[str, str], output: Any = None, extra_args: tuple[str, ...] = ()
) -> subprocess.Popen:
    """gunicorn as deployed: the ASGI application on a uvicorn worker (README, "Live
    updates"); ``extra_args`` adds flags (logging, more workers)."""
    process = _spawn(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bsp.asgi",
            "--worker-class",
            "bsp.gunicorn.AsgiWorker",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            *extra_args,
        ],
        env,
        output,
    )
    wait_for(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), timeout=30)
    return process


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for(predicate: Any, timeout: float, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")
        time.sleep(interval)


class RedisServer:
    """A Redis of our own on a free port, which a test may stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._up, timeout=10)
        return self

    def _up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
