"""The worm pages, under ``/records/archive/``; namespace ``records_worm``."""

from __future__ import annotations

from django.urls import URLPattern, path

from records.worm import views

app_name = "records_worm"

urlpatterns: list[URLPattern] = [
    path("", views.objects, name="objects"),
    path("policy/", views.policy, name="policy"),
]
