from __future__ import annotations

from django.urls import URLPattern, path

from templates_mgr.api import views

urlpatterns: list[URLPattern] = [
    path("templates/", views.TemplateListApi.as_view(), name="api-templates"),
    path("templates/<int:pk>/", views.TemplateDetailApi.as_view(), name="api-template"),
    path(
        "templates/<int:pk>/submit", views.TemplateSubmitApi.as_view(), name="api-template-submit"
    ),
]
