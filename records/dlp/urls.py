"""The agency's sensitive-data policy pages, under ``/records/dlp/``; namespace ``records_dlp``."""

from __future__ import annotations

from django.urls import path

from records.dlp import views

app_name = "records_dlp"

urlpatterns = [
    path("", views.policy, name="policy"),
    path("rules/", views.add_rule, name="add_rule"),
    path("rules/<int:pk>/", views.toggle_rule, name="toggle_rule"),
]
