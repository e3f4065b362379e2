"""The composer's URLs, included by ``inbox.urls`` under ``/inbox/`` (namespace ``inbox``)."""

from __future__ import annotations

from django.urls import URLPattern, path

from inbox.composer import views

urlpatterns: list[URLPattern] = [
    path("c/<int:pk>/send/", views.send, name="send"),
    path("c/<int:pk>/send-template/", views.send_template, name="send_template"),
    path("c/<int:pk>/composer/", views.composer, name="composer"),
    path("c/<int:pk>/template-preview/", views.template_preview, name="template_preview"),
    path("c/<int:pk>/typing/", views.typing, name="typing"),
    path("canned/", views.canned, name="canned"),
    # Masked sensitive data shown once to a role the agency's DLP policy allows (audited).
    path("c/<int:pk>/m/<int:message_pk>/reveal/", views.reveal, name="reveal"),
]
