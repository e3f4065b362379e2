"""The project's URLs with ``inbox.media_urls`` in the ``inbox`` namespace (first, so it
wins), whether or not ``inbox/urls.py`` includes it yet."""

from __future__ import annotations

from django.urls import include, path

import bsp.urls
import inbox.urls

urlpatterns = [
    path(
        "inbox/",
        include(([path("", include("inbox.media_urls")), *inbox.urls.urlpatterns], "inbox")),
    ),
    *bsp.urls.urlpatterns,
]
