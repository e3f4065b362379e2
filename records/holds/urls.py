"""The holds pages, under ``/records/holds/``; namespace ``records_holds``."""

from __future__ import annotations

from django.urls import path

from records.holds import views

app_name = "records_holds"

urlpatterns = [
    path("", views.hold_list, name="list"),
    path("new/", views.hold_new, name="new"),
    path("preview/", views.hold_preview, name="preview"),
    path("<int:pk>/", views.hold_detail, name="detail"),
]
