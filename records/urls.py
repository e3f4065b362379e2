from django.urls import include, path

from records import views

urlpatterns = [
    path(".well-known/civic-relay-records-key", views.signing_keys, name="records_signing_keys"),
    # Records officers' pages (issue 12): each part keeps its own urls.py.
    path("records/holds/", include("records.holds.urls")),
    path("records/retention/", include("records.retention.urls")),
    path("records/archive/", include("records.worm.urls")),
    path("records/exports/", include("records.exports.urls")),
    path("records/requests/", include("records.foia.urls")),
    path("records/dlp/", include("records.dlp.urls")),
]
