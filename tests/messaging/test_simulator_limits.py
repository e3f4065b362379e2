"""Throughput cap, pair rate limit and fault injection (cloud-api.md §7.1-7.2, §8)."""

from __future__ import annotations

import asyncio

import pytest

from messaging.whatsapp import RetryableError
from messaging.whatsapp.client import close_shared_http_client
from tests.simulator_fixture import wait_until


def _burst(simulator, number, count):
    """Send ``count`` texts at once; return how many were refused with 130429."""

    async def run():
        client = simulator.async_client(number)
        try:
            results = await asyncio.gather(
                *(client.send_text(f"1555777{i:04d}", "hi") for i in range(count)),
                return_exceptions=True,
            )
        finally:
            await close_shared_http_client()  # this loop's pool dies with asyncio.run
        return [r for r in results if isinstance(r, RetryableError) and r.code == 130429]

    return len(asyncio.run(run()))


def test_default_throughput_cap_is_80_per_second(simulator, sim_number):
    assert simulator.configure()["limits"]["throughput_mps"] == 80
    # The bucket refills while the burst is in flight, so only "some were refused" is exact.
    assert _burst(simulator, sim_number, 200) > 0


def test_throughput_under_the_cap_is_all_accepted(simulator, sim_number):
    assert _burst(simulator, sim_number, 60) == 0


def test_throughput_cap_is_configurable_per_number(simulator, sim_number):
    simulator.register_number(sim_number["id"], throughput_mps=1000)
    assert _burst(simulator, sim_number, 200) == 0


def test_pair_rate_limit_allows_a_burst_then_refuses_131056(simulator, sim_number):
    simulator.configure(limits={"pair_burst": 3})
    client = simulator.client(sim_number)
    for _ in range(3):
        client.send_text("15551230007", "hi")
    with pytest.raises(RetryableError) as info:
        client.send_text("15551230007", "hi")
    assert info.value.code == 131056


def test_pair_rate_limit_is_per_recipient(simulator, sim_number):
    simulator.configure(limits={"pair_burst": 1})
    client = simulator.client(sim_number)
    client.send_text("15551230007", "hi")
    assert client.send_text("15551230008", "hi").wamid


def test_5xx_fraction_fails_roughly_that_share(simulator, sim_number):
    simulator.configure(faults={"error_5xx_fraction": 0.5}, limits={"throughput_mps": 0})
    failures = 0
    client = simulator.client(sim_number)
    for i in range(100):
        try:
            client.send_text(f"1555888{i:04d}", "hi")
        except RetryableError:
            failures += 1
    assert 25 <= failures <= 75


def test_undeliverable_fraction_fails_messages_with_131026(simulator, sim_number):
    simulator.configure(faults={"undeliverable_fraction": 1.0})
    simulator.open_window(sim_number["id"], "15551230009")
    wamid = simulator.client(sim_number).send_text("15551230009", "hi").wamid
    statuses = wait_until(lambda: simulator.message(wamid)["statuses"])
    assert statuses == [{"status": "failed", "error_code": 131026}]


def test_failed_after_sent_fraction_emits_sent_then_failed(simulator, sim_number):
    simulator.configure(webhooks={"failed_after_sent_fraction": 1.0})
    simulator.open_window(sim_number["id"], "15551230009")
    wamid = simulator.client(sim_number).send_text("15551230009", "hi").wamid
    wait_until(lambda: len(simulator.message(wamid)["statuses"]) == 2)
    assert [s["status"] for s in simulator.message(wamid)["statuses"]] == ["sent", "failed"]
