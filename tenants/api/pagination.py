"""Cursor pagination for every list of the API (``DEFAULT_PAGINATION_CLASS``).

Subclass it with an ``ordering`` (newest first by id unless said otherwise)::

    class NewestFirst(CursorPagination):
        ordering = "-id"

A cursor that does not decode (made up, truncated, from another list) is the client's
mistake: ``400 invalid_cursor``, not DRF's ``404``. ``page_size`` may be asked for with
``?page_size=`` up to ``max_page_size``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, pagination

from tenants.api.exceptions import ApiProblem


class CursorPagination(pagination.CursorPagination):
    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The page envelope in the schema; drf-spectacular wraps a list's example (one
        item) in it, so the docs show our own URLs."""
        envelope: dict[str, Any] = super().get_paginated_response_schema(schema)
        envelope["properties"]["next"]["example"] = (
            "https://relay.example.gov/api/v1/...?cursor=cD0yMDI2LTEyLTAz"
        )
        envelope["properties"]["previous"]["example"] = None
        return envelope

    def decode_cursor(self, request: Any) -> Any:
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as exc:
            detail = "The cursor is not valid for this list."
            raise ApiProblem(400, "invalid_cursor", detail) from exc
