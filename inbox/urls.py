"""The team inbox's pages (``/inbox/``). Each area keeps its own URL module."""

from __future__ import annotations

from django.urls import include, path

from inbox import views

app_name = "inbox"
urlpatterns = [
    path("", views.conversations, name="conversations"),
    path("c/<int:pk>/", views.conversation, name="conversation"),
    path("", include("inbox.live.urls")),
    path("", include("inbox.composer.urls")),
    path("", include("inbox.admin_pages.urls")),
    path("", include("inbox.analytics.urls")),
]
