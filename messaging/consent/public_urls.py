"""The hosted opt-in pages (public, no sign-in), included at /optin/."""

from __future__ import annotations

from django.urls import path

from messaging.consent import public_views

app_name = "optin"
urlpatterns = [
    path("<slug:agency_slug>/<slug:topic_slug>/", public_views.optin_page, name="page"),
    path("<slug:agency_slug>/<slug:topic_slug>/qr.svg", public_views.optin_qr, name="qr"),
]
