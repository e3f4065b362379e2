"""The product's own error pages: an unexpected error answers our 500 page (DEBUG is off)
under the CSP, and no browser request for a favicon ends in a 404."""

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


def test_browsers_asking_for_favicon_ico_get_the_platforms_icon(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/frontend/favicon.svg"
