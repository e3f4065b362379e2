"""The analytics and supervisor pages' URLs, included by ``inbox.urls`` (namespace ``inbox``)."""

from __future__ import annotations

from django.urls import URLPattern, path

from inbox.analytics import views

urlpatterns: list[URLPattern] = [
    path("analytics/", views.analytics, name="analytics"),
    path("analytics/export.csv", views.export_csv, name="analytics_export"),
    path("supervisor/", views.supervisor, name="supervisor"),
    path("supervisor/reassign/", views.bulk_reassign, name="supervisor_reassign"),
    path("supervisor/panels/<slug:name>/", views.supervisor_panel, name="supervisor_panel"),
]
