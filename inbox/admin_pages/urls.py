"""The inbox's admin pages (under ``/inbox/``, namespace ``inbox``) and "my availability"."""

from __future__ import annotations

from django.urls import URLPattern, path

from inbox.admin_pages import views

urlpatterns: list[URLPattern] = [
    path("me/availability/", views.availability, name="availability"),
    path("admin/", views.overview, name="admin"),
    path("admin/teams/", views.teams, name="admin_teams"),
    path("admin/teams/new/", views.team_create, name="admin_team_create"),
    path("admin/teams/<int:pk>/", views.team_edit, name="admin_team_edit"),
    path("admin/teams/<int:pk>/delete/", views.team_delete, name="admin_team_delete"),
    path("admin/agents/", views.agents, name="admin_agents"),
    path("admin/agents/<int:user_id>/capacity/", views.agent_capacity, name="admin_agent_capacity"),
    path("admin/canned-responses/", views.canned_responses, name="admin_canned"),
    path("admin/canned-responses/new/", views.canned_create, name="admin_canned_create"),
    path("admin/canned-responses/<int:pk>/", views.canned_edit, name="admin_canned_edit"),
    path(
        "admin/canned-responses/<int:pk>/delete/",
        views.canned_delete,
        name="admin_canned_delete",
    ),
    path("admin/labels/", views.labels, name="admin_labels"),
    path("admin/labels/<int:pk>/", views.label_edit, name="admin_label_edit"),
    path("admin/labels/<int:pk>/delete/", views.label_delete, name="admin_label_delete"),
    path("admin/business-hours/", views.business_hours, name="admin_hours"),
    path(
        "admin/business-hours/<int:number_id>/",
        views.business_hours_edit,
        name="admin_hours_edit",
    ),
    path("admin/agency/", views.agency_settings, name="admin_agency"),
]
