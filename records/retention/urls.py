"""The retention pages, under ``/records/retention/``; namespace ``records_retention``."""

from __future__ import annotations

from django.urls import path

from records.retention import views

app_name = "records_retention"

urlpatterns = [
    path("", views.plan, name="plan"),
    path("fiscal-year/", views.fiscal_year, name="fiscal_year"),
    path("categories/new/", views.category_form, name="category_new"),
    path("categories/<int:pk>/", views.category_form, name="category_edit"),
    path("categories/<int:pk>/delete/", views.category_delete, name="category_delete"),
    path("reports/", views.reports, name="reports"),
    path("reports/<int:pk>/", views.report, name="report"),
    path("reports/<int:pk>/approve/", views.approve, name="approve"),
    path("reports/<int:pk>/reject/", views.reject, name="reject"),
    path("certificates/", views.certificates, name="certificates"),
    path("certificates/<int:pk>/", views.certificate, name="certificate"),
]
