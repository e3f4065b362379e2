"""Liveness and readiness probes."""

from __future__ import annotations

from django.test import override_settings

from bsp.celery import app as celery_app


def test_healthz_answers_without_touching_anything(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ok_when_database_and_broker_answer(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["failed"] == []


def test_readyz_names_the_broker_when_it_is_unreachable(client, db):
    original = celery_app.conf.broker_url
    # celery-types declares the setting read-only; Celery's settings are writable.
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"  # type: ignore[misc]  # port 1: nobody
    try:
        response = client.get("/readyz")
    finally:
        celery_app.conf.broker_url = original  # type: ignore[misc]
    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]


def test_readyz_names_the_database_when_it_is_unreachable(client, db, settings):
    from django.db import connections

    conn = connections["default"]
    real_params = conn.settings_dict["PORT"]
    conn.close()
    with override_settings():
        conn.settings_dict["PORT"] = "1"
        try:
            response = client.get("/readyz")
        finally:
            conn.settings_dict["PORT"] = real_params
            conn.close()
    assert response.status_code == 503
    assert "database" in response.json()["failed"]
