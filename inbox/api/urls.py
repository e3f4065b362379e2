"""The REST API of this app (``/api/v1/``): thin DRF views over its services and selectors."""

from __future__ import annotations

from django.urls import URLPattern, path

from inbox.api import views

urlpatterns: list[URLPattern] = [
    path("conversations/", views.ConversationListApi.as_view(), name="api-conversations"),
    path("conversations/<int:pk>/", views.ConversationDetailApi.as_view(), name="api-conversation"),
    path(
        "conversations/<int:pk>/assign",
        views.ConversationAssignApi.as_view(),
        name="api-conversation-assign",
    ),
    path(
        "conversations/<int:pk>/status",
        views.ConversationStatusApi.as_view(),
        name="api-conversation-status",
    ),
    path(
        "conversations/<int:pk>/labels",
        views.ConversationLabelsApi.as_view(),
        name="api-conversation-labels",
    ),
    path(
        "conversations/<int:pk>/notes/",
        views.ConversationNotesApi.as_view(),
        name="api-conversation-notes",
    ),
]
