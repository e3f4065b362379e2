"""The API docs work offline: the page references only files the platform serves itself."""

from __future__ import annotations

import re

from django.contrib.staticfiles import finders


def test_the_api_docs_reference_only_local_static_files(client, db):
    page = client.get("/api/docs/").text
    references = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert references, page
    assert [ref for ref in references if not ref.startswith("/")] == []
    assert "googleapis" not in page and "cdn." not in page
    for ref in references:
        if ref.startswith("/static/"):
            assert finders.find(ref.removeprefix("/static/")), ref
    # Swagger UI's start-up script is a file of the docs view itself (no inline script).
    script = client.get(references[-1])
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.text
