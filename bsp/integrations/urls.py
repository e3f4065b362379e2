"""The webhook subscription pages (namespace ``integrations``, under ``/integrations/``)."""

from __future__ import annotations

from django.urls import URLPattern, path

from bsp.integrations import views

app_name = "integrations"

urlpatterns: list[URLPattern] = [
    path("webhooks/", views.subscription_list, name="list"),
    path("webhooks/<int:pk>/", views.subscription_detail, name="detail"),
    path("webhooks/<int:pk>/edit/", views.subscription_edit, name="edit"),
    path(
        "webhooks/<int:pk>/<slug:action>/",
        views.subscription_action,
        name="action",
    ),
]
