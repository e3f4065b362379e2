"""The exports pages, under ``/records/exports/``; namespace ``records_exports``."""

from __future__ import annotations

from django.urls import URLPattern, path

from records.exports import views

app_name = "records_exports"

urlpatterns: list[URLPattern] = [
    path("", views.exports, name="index"),
    path("<int:pk>/", views.job, name="job"),
    path("<int:pk>/progress/", views.job_progress, name="job_progress"),
    path("<int:pk>/download/", views.download, name="download"),
]
