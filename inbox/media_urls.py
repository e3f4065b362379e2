"""The authenticated media view; included by ``inbox/urls.py`` (namespace ``inbox``)."""

from __future__ import annotations

from django.urls import path

from inbox import media_views

urlpatterns = [
    path("media/<int:pk>/", media_views.media, name="media"),
]
