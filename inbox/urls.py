"""The team inbox's pages (``/inbox/``). Each area keeps its own URL module."""

from __future__ import annotations

from django.urls import include, path

from inbox import views

app_name = "inbox"
urlpatterns = [
    path("", views.conversations, name="conversations"),
    path("c/<int:pk>/", views.conversation, name="conversation"),
    path("c/<int:pk>/earlier/", views.earlier_messages, name="earlier_messages"),
    path("c/<int:pk>/m/<int:message_pk>/", views.message_fragment, name="message_fragment"),
    path("c/<int:pk>/assign/", views.assign, name="assign"),
    path("c/<int:pk>/status/", views.set_status, name="set_status"),
    path("c/<int:pk>/labels/", views.set_labels, name="set_labels"),
    path("c/<int:pk>/notes/", views.add_note, name="add_note"),
    path("c/<int:pk>/consent/", views.record_contact_consent, name="record_consent"),
    path("notifications/", views.notifications, name="notifications"),
    path("", include("inbox.media_urls")),
    path("", include("inbox.live.urls")),
    path("", include("inbox.composer.urls")),
    path("", include("inbox.admin_pages.urls")),
    path("", include("inbox.analytics.urls")),
]
