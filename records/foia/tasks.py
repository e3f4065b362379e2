"""The production's task: takes the production's id, idempotent (``build_production``)."""

from __future__ import annotations

from celery import shared_task

from records.foia import services


@shared_task(name="records.build_production", ignore_result=True)
def build_production(production_id: int) -> None:
    services.build_production(production_id)
