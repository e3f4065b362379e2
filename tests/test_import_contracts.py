"""The import contracts (pyproject.toml, [tool.importlinter]) catch what they promise to.

Each scenario adds one forbidden import to a copy of the code and runs ``lint-imports`` on
it: the named contract must break. (``make lint`` runs it on the real code.)"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import ROOT

PACKAGES = ["bsp", "tenants", "messaging", "templates_mgr", "inbox", "records", "frontend"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _copy_of_the_code(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def _lint_imports(code: Path, contract: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--contract", contract],
        cwd=code,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(code)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_contracts_hold_on_an_unchanged_copy(tmp_path):
    code = _copy_of_the_code(tmp_path)
    result = _lint_imports(code, "layers")
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    ("module", "added_import", "contract"),
    [
        ("tenants/scoping.py", "from records.audit import record_event", "layers"),
        ("tenants/rls.py", "from tenants.services import add_member", "layers"),
        ("records/audit.py", "from tenants.services import add_member", "layers"),
        ("records/audit.py", "from messaging.models import Message", "layers"),
        ("bsp/events/services.py", "from records.audit import record_event", "layers"),
        ("bsp/events/services.py", "from messaging.models import Message", "layers"),
        ("messaging/whatsapp/builders.py", "from messaging.models import Message", "client"),
        ("messaging/whatsapp/transport.py", "from django.db import models", "client"),
        ("messaging/simulator/engine.py", "from tenants.models import Agency", "simulator-alone"),
        ("messaging/simulator/app.py", "import messaging.whatsapp", "simulator-alone"),
        ("tenants/services.py", "from messaging.simulator import app", "simulator-unused"),
        ("messaging/tasks.py", "import messaging.simulator.engine", "simulator-unused"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(tmp_path, module, added_import, contract):
    code = _copy_of_the_code(tmp_path)
    with (code / module).open("a") as source:
        source.write(f"\n{added_import}  # the forbidden import\n")
    result = _lint_imports(code, contract)
    assert result.returncode == 1, result.stdout
    assert "BROKEN" in result.stdout


def test_a_new_tenants_module_must_be_placed_in_a_layer(tmp_path):
    code = _copy_of_the_code(tmp_path)
    (code / "tenants" / "newcomer.py").write_text('"""Not yet placed in a layer."""\n')
    result = _lint_imports(code, "tenants")
    assert result.returncode == 1
    assert "tenants.newcomer" in result.stdout
