"""The suite's own conventions: tests that start real processes carry the ``processes`` marker
and the longer timeout, so ``-m "not processes"`` is a quick in-process run."""

from __future__ import annotations

import subprocess
import sys

import pytest

import tests.bsp.test_settings
import tests.messaging.test_builders
import tests.messaging.test_worker_crash
import tests.messaging.webhooks.test_end_to_end
from tests.conftest import PROCESSES_TIMEOUT, starts_processes
from tests.processes import ROOT


def test_modules_using_the_process_helpers_or_subprocess_start_processes():
    assert starts_processes(tests.messaging.test_worker_crash)  # start_worker, stop
    assert starts_processes(tests.messaging.webhooks.test_end_to_end)  # RedisServer, ...
    assert starts_processes(tests.bsp.test_settings)  # subprocess.run


def test_a_module_that_only_calls_code_in_process_does_not():
    assert not starts_processes(tests.messaging.test_builders)


def test_a_test_starting_a_process_is_marked_and_gets_the_longer_timeout(
    request: pytest.FixtureRequest,
):
    # This very test runs pytest in a subprocess below.
    assert request.node.get_closest_marker("processes") is not None
    assert request.node.get_closest_marker("timeout").args == (PROCESSES_TIMEOUT,)


def test_selecting_the_processes_marker_picks_the_process_tests_only():
    collected = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            "processes",
            "tests/messaging/test_worker_crash.py",
            "tests/messaging/test_builders.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "test_worker_crash.py::test_killing_a_worker_mid_batch" in collected
    assert "test_builders.py" not in collected
