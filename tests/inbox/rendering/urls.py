"""The project's URLs with ``inbox.media_urls`` in the ``inbox`` namespace (first, so it
wins), whether or not ``inbox/urls.py`` includes it yet."""

from __future__ import annotations

from typing import cast

from django.urls import URLPattern, URLResolver, include, path

import bsp.urls
import inbox.urls

_inbox: list[URLPattern | URLResolver] = [
    path("", include("inbox.media_urls")),
    *cast("list[URLPattern | URLResolver]", inbox.urls.urlpatterns),
]
urlpatterns = [path("inbox/", include((_inbox, "inbox"))), *bsp.urls.urlpatterns]
