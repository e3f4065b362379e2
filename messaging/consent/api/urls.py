"""The REST API of this app (``/api/v1/``): thin DRF views over its services and selectors."""

from __future__ import annotations

from django.urls import URLPattern, path

from messaging.consent.api import views

urlpatterns: list[URLPattern] = [
    path("contacts/", views.ContactListApi.as_view(), name="api-contacts"),
    path("contacts/<int:pk>/", views.ContactDetailApi.as_view(), name="api-contact"),
    path(
        "contacts/<int:pk>/consent/",
        views.ContactConsentApi.as_view(),
        name="api-contact-consent",
    ),
    path("consent-topics/", views.ConsentTopicListApi.as_view(), name="api-consent-topics"),
]
