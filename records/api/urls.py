"""The REST API of this app (``/api/v1/``): thin DRF views over its services and selectors."""

from __future__ import annotations

from django.urls import URLPattern, path

from records.api import views

urlpatterns: list[URLPattern] = [
    path("exports/", views.ExportListApi.as_view(), name="api-exports"),
    path("exports/<int:pk>/", views.ExportDetailApi.as_view(), name="api-export"),
    path(
        "exports/<int:pk>/download", views.ExportDownloadApi.as_view(), name="api-export-download"
    ),
    path(
        "records-jurisdictions/",
        views.JurisdictionListApi.as_view(),
        name="api-records-jurisdictions",
    ),
    path("records-requests/", views.RecordsRequestListApi.as_view(), name="api-records-requests"),
    path(
        "records-requests/<int:pk>/",
        views.RecordsRequestDetailApi.as_view(),
        name="api-records-request",
    ),
    path(
        "records-requests/<int:pk>/productions/",
        views.ProductionListApi.as_view(),
        name="api-records-productions",
    ),
    path(
        "records-requests/<int:pk>/productions/<int:production>/download",
        views.ProductionDownloadApi.as_view(),
        name="api-records-production-download",
    ),
]
