"""The REST API of this app (``/api/v1/``): thin DRF views over its services and selectors."""

from __future__ import annotations

from django.urls import URLPattern, path

from messaging.api import views

urlpatterns: list[URLPattern] = [
    path("messages", views.MessageSendApi.as_view(), name="api-messages"),
    path("messages/<int:pk>", views.MessageDetailApi.as_view(), name="api-message"),
    path(
        "conversations/<int:pk>/messages/",
        views.ConversationMessagesApi.as_view(),
        name="api-conversation-messages",
    ),
    path("media", views.MediaUploadApi.as_view(), name="api-media"),
    path("media/<int:pk>", views.MediaDownloadApi.as_view(), name="api-media-file"),
]
