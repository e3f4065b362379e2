from __future__ import annotations

from django.urls import URLPattern, path

from messaging.campaigns.api import views

urlpatterns: list[URLPattern] = [
    path("campaigns/", views.CampaignListApi.as_view(), name="api-campaigns"),
    path("campaigns/<int:pk>/", views.CampaignDetailApi.as_view(), name="api-campaign"),
    path(
        "campaigns/<int:pk>/schedule",
        views.CampaignScheduleApi.as_view(),
        name="api-campaign-schedule",
    ),
    path("campaigns/<int:pk>/pause", views.CampaignPauseApi.as_view(), name="api-campaign-pause"),
    path(
        "campaigns/<int:pk>/resume", views.CampaignResumeApi.as_view(), name="api-campaign-resume"
    ),
    path(
        "campaigns/<int:pk>/cancel", views.CampaignCancelApi.as_view(), name="api-campaign-cancel"
    ),
    path(
        "campaigns/<int:pk>/recipients/",
        views.CampaignRecipientsApi.as_view(),
        name="api-campaign-recipients",
    ),
]
