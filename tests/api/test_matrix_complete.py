"""Every operation of the API is in an authorization matrix (``tests/api/matrix.py``): a new
endpoint cannot ship without its four cases (no credential, another agency, a missing
scope, the right scope)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import yaml
from django.urls import resolve

TESTS = Path(__file__).resolve().parents[1]
COMMITTED = TESTS.parent / "docs" / "openapi.yaml"
NOT_IN_A_MATRIX = {("api-oauth-token", "POST")}  # takes no bearer: tests/api/test_oauth.py


def listed_operations() -> set[tuple[str, str]]:
    listed: set[tuple[str, str]] = set()
    for path in sorted(TESTS.rglob("test_api_matrix.py")):
        module = ".".join(path.relative_to(TESTS.parent).with_suffix("").parts)
        for endpoint in importlib.import_module(module).ENDPOINTS:
            listed.add((endpoint.name, endpoint.method.upper()))
    return listed


def _operations() -> set[tuple[str, str]]:
    operations = set()
    for path, methods in yaml.safe_load(COMMITTED.read_text())["paths"].items():
        name = str(resolve(re.sub(r"\{[^}]+\}", "1", path)).url_name)
        for method in methods:
            if method.upper() in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                operations.add((name, method.upper()))
    return operations


def test_every_operation_of_the_schema_is_in_a_matrix():
    missing = _operations() - listed_operations() - NOT_IN_A_MATRIX
    assert not missing, f"operations without an authorization matrix: {sorted(missing)}"


def test_every_matrix_entry_is_an_operation_of_the_schema():
    stale = listed_operations() - _operations()
    assert not stale, f"matrix entries the schema does not have: {sorted(stale)}"
