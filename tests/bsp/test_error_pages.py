"""An unexpected error answers the product's own 500 page (DEBUG is off), under the CSP."""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path


def _broken_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns = [path("broken/", _broken_view)]


@pytest.mark.urls("tests.bsp.test_error_pages")
def test_an_unexpected_error_answers_the_products_own_500_page(db):
    client = Client(raise_request_exception=False)
    response = client.get("/broken/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "a bug" not in response.text and "Traceback" not in response.text
    assert "script-src 'self'" in response["Content-Security-Policy"]
