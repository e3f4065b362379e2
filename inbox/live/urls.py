"""The live updates' URL, included by ``inbox.urls`` (namespace ``inbox``)."""

from __future__ import annotations

from django.urls import URLPattern, path

from inbox.live import views

urlpatterns: list[URLPattern] = [
    path("stream/", views.stream, name="stream"),
]
