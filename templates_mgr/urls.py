from __future__ import annotations

from django.urls import URLPattern

app_name = "templates_mgr"
urlpatterns: list[URLPattern] = []
