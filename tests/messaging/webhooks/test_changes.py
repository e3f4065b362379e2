"""The handlers' shared types live in a module of their own, not in the dispatcher."""

from __future__ import annotations

import ast
from pathlib import Path

import messaging.webhooks

WEBHOOKS = Path(messaging.webhooks.__file__).parent
# The dispatcher itself, and the endpoint that wakes it, are not handlers.
NOT_HANDLERS = {"__init__.py", "processing.py", "receive.py", "signature.py", "changes.py"}


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_handler_imports_the_dispatcher() -> None:
    handlers = [p for p in WEBHOOKS.glob("*.py") if p.name not in NOT_HANDLERS]
    assert handlers
    offenders = [
        p.name for p in handlers if "messaging.webhooks.processing" in _imported_modules(p)
    ]
    assert offenders == []


def test_the_dispatcher_defines_none_of_the_shared_types() -> None:
    tree = ast.parse((WEBHOOKS / "processing.py").read_text())
    defined = {node.name for node in tree.body if isinstance(node, ast.ClassDef | ast.FunctionDef)}
    assert defined.isdisjoint({"Change", "InvalidChange", "Route", "unix_time"})
