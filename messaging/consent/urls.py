"""The consent pages for staff, included at /contacts/."""

from __future__ import annotations

from django.urls import path

from messaging.consent import views

app_name = "contacts"
urlpatterns = [
    path("", views.directory, name="directory"),
    path("<int:pk>/", views.contact_detail, name="contact"),
    path("<int:pk>/consent/", views.contact_record, name="record"),
    path("<int:pk>/consent-history.csv", views.contact_export, {"fmt": "csv"}, name="export_csv"),
    path(
        "<int:pk>/consent-history.json", views.contact_export, {"fmt": "json"}, name="export_json"
    ),
    path("topics/", views.topics, name="topics"),
    path("topics/new/", views.topic_create, name="topic_create"),
    path("topics/<int:pk>/", views.topic_edit, name="topic_edit"),
    path("topics/<int:pk>/qr.svg", views.topic_qr, name="topic_qr"),
    path("imports/", views.import_list, name="imports"),
    path("imports/sample.csv", views.import_sample, name="import_sample"),
    path("imports/<int:pk>/", views.import_detail, name="import"),
    path("imports/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("imports/<int:pk>/commit/", views.import_commit, name="import_commit"),
    path("imports/<int:pk>/discard/", views.import_discard, name="import_discard"),
    path("imports/<int:pk>/reread/", views.import_reread, name="import_reread"),
    path("imports/<int:pk>/report.csv", views.import_report, name="import_report"),
]
