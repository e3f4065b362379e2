"""The export job's task: takes the job's id, idempotent (``run_export_job``)."""

from __future__ import annotations

from celery import shared_task

from records.exports import services


@shared_task(name="records.run_export", ignore_result=True)
def run_export(job_id: int) -> None:
    services.run_export_job(job_id)
