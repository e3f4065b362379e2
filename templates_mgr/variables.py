"""Template variables as Meta reads them: ``{{1}}`` (positional) or ``{{first_name}}`` (named).

``ANY_VARIABLE`` also matches malformed ones (``{{ First Name }}``) so the validator can name
them; ``variable_names`` lists each well-formed name once, in order of first use.
"""

from __future__ import annotations

import re

ANY_VARIABLE = re.compile(r"\{\{(.*?)\}\}")
VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
NAMED_PARAM = re.compile(r"^[a-z_][a-z0-9_]*$")


def variable_names(text: str) -> list[str]:
    """Each variable of ``text`` once, in order of first appearance (``{{1}}`` used twice is
    one value to give)."""
    return list(dict.fromkeys(VARIABLE.findall(text or "")))


def positional_order(names: list[str]) -> list[str]:
    """Positional names in the order a send gives their values: by number."""
    return sorted(names, key=lambda n: int(n) if n.isdigit() else 0)
