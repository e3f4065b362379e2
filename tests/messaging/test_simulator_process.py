"""The simulator runs on its own (``python -m messaging.simulator``) and loads YAML config."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from messaging.simulator.config import load_config
from tests.simulator_fixture import free_port


def test_config_file_overrides_defaults(tmp_path):
    path = tmp_path / "sim.yaml"
    path.write_text("limits:\n  throughput_mps: 1000\nfaults:\n  error_5xx_fraction: 0.1\n")
    config = load_config(path)
    assert (config.limits.throughput_mps, config.faults.error_5xx_fraction) == (1000, 0.1)


def test_config_file_with_unknown_key_is_refused(tmp_path):
    path = tmp_path / "sim.yaml"
    path.write_text("limits:\n  throughput: 1000\n")
    with pytest.raises(ValueError, match=r"limits\.throughput"):
        load_config(path)


def test_module_entry_point_serves_graph_and_control_api(tmp_path):
    config = tmp_path / "sim.yaml"
    config.write_text(
        "phone_numbers:\n"
        "  - {id: '1001', display_phone_number: '15550001111',\n"
        "     access_token: tok, waba_id: '2002'}\n"
    )
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "messaging.simulator", "--port", str(port), "--config", str(config)]
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                response = httpx.get(f"{base}/v23.0/1001", headers={"Authorization": "Bearer tok"})
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert response.json()["display_phone_number"] == "15550001111"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
