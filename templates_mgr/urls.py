"""The template manager's pages (under ``/templates/``, namespace ``templates_mgr``)."""

from __future__ import annotations

from django.urls import URLPattern, path

from templates_mgr import views

app_name = "templates_mgr"
urlpatterns: list[URLPattern] = [
    path("", views.library, name="library"),
    path("accounts/<int:waba_pk>/new/", views.create, name="create"),
    path("preview/", views.preview, name="preview"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/status/", views.status_fragment, name="status"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/translate/", views.translate, name="translate"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("banned-terms/", views.banned_terms, name="banned_terms"),
    path("banned-terms/<int:pk>/remove/", views.banned_term_delete, name="banned_term_delete"),
]
