"""Raw accept rate of the Cloud API simulator for text sends (not a test).

Starts ``python -m messaging.simulator`` as a subprocess with the throughput and pair limits
lifted, then fires text sends from a tight async httpx client with many requests in flight and
prints the median of several runs in messages per second.

    .venv/bin/python bench/simulator_accept_rate.py [--runs 5] [--messages 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import multiprocessing.pool
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PHONE_ID, TOKEN = "100000000000001", "bench-token"
CONFIG = {
    "limits": {"throughput_mps": 0, "pair_burst": 0},  # measure the server, not the limits
    "phone_numbers": [
        {
            "id": PHONE_ID,
            "display_phone_number": "15550009999",
            "access_token": TOKEN,
            "waba_id": "200000000000001",
        }
    ],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_simulator(port: int, config_path: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "messaging.simulator", "--port", str(port)]
    cmd += ["--config", config_path, "--log-level", "warning"]
    return subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def wait_ready(base_url: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/_sim/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("simulator did not start")


async def _send_all(base_url: str, first: int, count: int, concurrency: int) -> None:
    url = f"{base_url}/v23.0/{PHONE_ID}/messages"
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    numbers = iter(range(first, first + count))
    failures: list[str] = []

    async def worker(client: httpx.AsyncClient) -> None:
        for i in numbers:
            body = {
                "messaging_product": "whatsapp",
                "to": f"1444{i % 10_000_000:07d}",
                "type": "text",
                "text": {"body": f"benchmark message {i}"},
            }
            response = await client.post(url, content=json.dumps(body), headers=headers)
            if response.status_code != 200:
                failures.append(f"{response.status_code} {response.text[:200]}")

    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    if failures:
        raise RuntimeError(f"{len(failures)} sends were not accepted, e.g. {failures[0]}")


def _client_process(args: tuple[str, int, int, int]) -> tuple[float, float]:
    """One client process; returns its (start, end) wall-clock times."""
    started = time.time()
    asyncio.run(_send_all(*args))
    return started, time.time()


def server_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def one_run(
    pool: multiprocessing.pool.Pool, base_url: str, messages: int, clients: int, concurrency: int
) -> float:
    share = messages // clients
    jobs = [(base_url, n * share, share, concurrency) for n in range(clients)]
    spans = pool.map(_client_process, jobs)
    elapsed = max(end for _, end in spans) - min(start for start, _ in spans)
    return share * clients / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=32, help="in flight per client")
    parser.add_argument(
        "--clients",
        type=int,
        default=2,
        help="client processes: one httpx process cannot saturate the server on its own",
    )
    args = parser.parse_args()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(CONFIG, handle)
    proc = start_simulator(port, handle.name)
    try:
        wait_ready(base_url)
        with multiprocessing.Pool(args.clients) as pool:
            one_run(pool, base_url, 2000, args.clients, args.concurrency)  # warm-up
            rates, cpu_per_msg = [], []
            for run in range(1, args.runs + 1):
                cpu_before = server_cpu_seconds(proc.pid)
                rate = one_run(pool, base_url, args.messages, args.clients, args.concurrency)
                cpu_per_msg.append((server_cpu_seconds(proc.pid) - cpu_before) / args.messages)
                rates.append(rate)
                print(f"run {run}: {rate:,.0f} msg/s")
        server_ms = statistics.median(cpu_per_msg) * 1000
        print(
            f"median accept rate: {statistics.median(rates):,.0f} msg/s "
            f"({args.runs} runs x {args.messages} text sends, {args.clients} client processes x "
            f"{args.concurrency} in flight, {os.cpu_count()} CPUs)"
        )
        print(
            f"simulator CPU per accepted send: {server_ms:.3f} ms "
            f"(one core could accept ~{1000 / server_ms:,.0f} msg/s)"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        os.unlink(handle.name)


if __name__ == "__main__":
    main()
