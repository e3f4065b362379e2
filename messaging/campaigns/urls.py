"""The campaign pages, included at ``/campaigns/`` (namespace ``campaigns``)."""

from __future__ import annotations

from django.urls import URLPattern, path

from messaging.campaigns import views

app_name = "campaigns"
urlpatterns: list[URLPattern] = [
    path("", views.campaign_list, name="list"),
    path("new/", views.create, name="create"),
    path("pricing/", views.pricing, name="pricing"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/progress/", views.progress_fragment, name="progress"),
    path("<int:pk>/report.csv", views.report_csv, name="report"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/template/", views.template, name="template"),
    path("<int:pk>/audience/", views.audience, name="audience"),
    path("<int:pk>/variables/", views.variables, name="variables"),
    path("<int:pk>/schedule/", views.schedule, name="schedule"),
    path("<int:pk>/review/", views.review, name="review"),
    path("<int:pk>/pause/", views.pause, name="pause"),
    path("<int:pk>/resume/", views.resume, name="resume"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
]
