"""The project's URLs plus the webhook pages (until bsp/urls.py includes them)."""

from django.urls import include, path

from bsp.urls import urlpatterns as project

urlpatterns = [
    *project,
    path("integrations/", include("bsp.integrations.urls", namespace="integrations")),
]
