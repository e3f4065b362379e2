"""Raw accept rate of the Cloud API simulator for text sends (not a test).

Starts ``python -m messaging.simulator`` as a subprocess with the throughput and pair limits
lifted, then fires text sends from tight async clients with many requests in flight and
prints the median of several runs in messages per second. ``--client`` picks the HTTP stack:
httpx (what the Cloud API client used until it moved to aiohttp), aiohttp (what it uses now),
or bare asyncio streams (the least client CPU, so the server's own rate shows).

    .venv/bin/python bench/simulator_accept_rate.py [--runs 5] [--messages 20000]
        [--client httpx|aiohttp|raw] [--clients 3] [--concurrency 6]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import multiprocessing.pool
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup

ROOT = _setup.ROOT
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


async def _send_all_aiohttp(base_url: str, first: int, count: int, concurrency: int) -> None:
    import aiohttp

    url = f"{base_url}/v23.0/{PHONE_ID}/messages"
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    numbers = iter(range(first, first + count))
    failures: list[str] = []

    async def worker(session: aiohttp.ClientSession) -> None:
        for i in numbers:
            body = {
                "messaging_product": "whatsapp",
                "to": f"1444{i % 10_000_000:07d}",
                "type": "text",
                "text": {"body": f"benchmark message {i}"},
            }
            async with session.post(url, data=json.dumps(body), headers=headers) as response:
                text = await response.text()
                if response.status != 200:
                    failures.append(f"{response.status} {text[:200]}")

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    if failures:
        raise RuntimeError(f"{len(failures)} sends were not accepted, e.g. {failures[0]}")


async def _send_all_raw(base_url: str, first: int, count: int, concurrency: int) -> None:
    """Same sends over bare asyncio streams (keep-alive HTTP/1.1, one request per connection
    at a time). httpx spends ~1 ms of CPU per request here, which on a 2-core machine hides
    the server's own rate; this client costs a small fraction of that."""
    host, port = base_url.removeprefix("http://").split(":")
    numbers = iter(range(first, first + count))
    failures: list[bytes] = []

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        for i in numbers:
            body = json.dumps(
                {
                    "messaging_product": "whatsapp",
                    "to": f"1444{i % 10_000_000:07d}",
                    "type": "text",
                    "text": {"body": f"benchmark message {i}"},
                }
            ).encode()
            writer.write(
                f"POST /v23.0/{PHONE_ID}/messages HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            answer = await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200"):
                failures.append(head + answer)
        writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    if failures:
        raise RuntimeError(f"{len(failures)} sends were not accepted, e.g. {failures[0]!r}")


CLIENTS = {"httpx": _send_all, "aiohttp": _send_all_aiohttp, "raw": _send_all_raw}


def _client_process(args: tuple[str, int, int, int, str]) -> tuple[float, float]:
    """One client process; returns its (start, end) wall-clock times."""
    base_url, first, count, concurrency, client = args
    started = time.time()
    asyncio.run(CLIENTS[client](base_url, first, count, concurrency))
    return started, time.time()


def server_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def one_run(
    pool: multiprocessing.pool.Pool,
    base_url: str,
    messages: int,
    clients: int,
    concurrency: int,
    client: str,
) -> float:
    share = messages // clients
    jobs = [(base_url, n * share, share, concurrency, client) for n in range(clients)]
    spans = pool.map(_client_process, jobs)
    elapsed = max(end for _, end in spans) - min(start for start, _ in spans)
    return share * clients / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=6,
        help="in flight per client (httpx pool overhead grows with it; 6-8 is its sweet spot)",
    )
    parser.add_argument(
        "--clients",
        type=int,
        default=3,
        help="client processes: one httpx process cannot saturate the server on its own",
    )
    parser.add_argument("--client", choices=sorted(CLIENTS), default="httpx")
    parser.add_argument("--raw", action="store_true", help="shorthand for --client raw")
    args = parser.parse_args()
    client = "raw" if args.raw else args.client
    port = _setup.free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(CONFIG, handle)
    proc = start_simulator(port, handle.name)
    try:
        wait_ready(base_url)
        with multiprocessing.Pool(args.clients) as pool:
            one_run(pool, base_url, 2000, args.clients, args.concurrency, client)  # warm-up
            rates, cpu_per_msg = [], []
            for run in range(1, args.runs + 1):
                cpu_before = server_cpu_seconds(proc.pid)
                rate = one_run(
                    pool, base_url, args.messages, args.clients, args.concurrency, client
                )
                cpu_per_msg.append((server_cpu_seconds(proc.pid) - cpu_before) / args.messages)
                rates.append(rate)
                print(f"run {run}: {rate:,.0f} msg/s")
        server_ms = statistics.median(cpu_per_msg) * 1000
        print(
            f"median accept rate: {statistics.median(rates):,.0f} msg/s "
            f"({args.runs} runs x {args.messages} text sends, {args.clients} "
            f"{client} client processes x "
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
