from __future__ import annotations

from django.urls import URLPattern, path

from bsp.integrations.api import views

urlpatterns: list[URLPattern] = [
    path("webhooks/", views.SubscriptionListApi.as_view(), name="api-webhooks"),
    path("webhooks/<int:pk>/", views.SubscriptionDetailApi.as_view(), name="api-webhook"),
    path(
        "webhooks/<int:pk>/rotate-secret",
        views.RotateSecretApi.as_view(),
        name="api-webhook-rotate",
    ),
    path("webhooks/<int:pk>/enable", views.EnableApi.as_view(), name="api-webhook-enable"),
    path("webhooks/<int:pk>/test", views.TestEventApi.as_view(), name="api-webhook-test"),
    path(
        "webhooks/<int:pk>/deliveries/",
        views.DeliveryListApi.as_view(),
        name="api-webhook-deliveries",
    ),
]
