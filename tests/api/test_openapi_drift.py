"""The committed OpenAPI schema (docs/openapi.yaml) is the one the code generates."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.core.management import call_command

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
# The PostgreSQL backend of the test settings (integer bounds differ under SQLite); the
# command reads the database's features only, it does not query it.
REFRESH = (
    "DJANGO_SETTINGS_MODULE=bsp.settings.test .venv/bin/python manage.py spectacular "
    "--validate --fail-on-warn --file docs/openapi.yaml"
)


def test_the_committed_schema_matches_the_code(tmp_path):
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(generated))
    assert generated.read_text() == COMMITTED.read_text(), (
        f"docs/openapi.yaml is out of date with the code. Refresh it with:\n  {REFRESH}\n"
        "and commit it."
    )


def test_the_schema_documents_both_ways_in():
    schemes = yaml.safe_load(COMMITTED.read_text())["components"]["securitySchemes"]
    assert schemes["ApiKey"]["scheme"] == "bearer"
    flow = schemes["OAuth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/api/v1/oauth/token/"
    assert set(flow["scopes"]) >= {"messages:send", "audit:read", "webhooks:manage"}


def test_each_operation_names_the_scope_it_needs():
    paths = yaml.safe_load(COMMITTED.read_text())["paths"]
    security = paths["/api/v1/audit-events/"]["get"]["security"]
    assert {"OAuth2": ["audit:read"]} in security


def test_every_operation_has_an_example_answer():
    """The docs at /api/docs/ show an example of every endpoint's answer (2xx)."""
    paths = yaml.safe_load(COMMITTED.read_text())["paths"]
    missing = []
    for path, operations in paths.items():
        for method, operation in operations.items():
            answers = [v for k, v in operation["responses"].items() if k.startswith("2")]
            contents = [c for a in answers for c in (a.get("content") or {}).values()]
            if contents and not any("examples" in c or "example" in c for c in contents):
                missing.append(f"{method.upper()} {path}")
    assert not missing, f"operations without an example answer: {missing}"
