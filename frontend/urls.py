from __future__ import annotations

from django.urls import path

from frontend import console, views

app_name = "frontend"
urlpatterns = [
    path("", views.home, name="home"),
    path("console/", console.console, name="console"),
    path("agency/switch/", views.switch_agency, name="switch_agency"),
    path("members/", views.members, name="members"),
    path("members/invite/", views.invite_member, name="invite_member"),
    path("members/<int:pk>/role/", views.change_member_role, name="change_member_role"),
    path("members/<int:pk>/phone/", views.set_member_phone, name="set_member_phone"),
    path("members/<int:pk>/remove/", views.remove_member, name="remove_member"),
    path("invitations/<int:pk>/revoke/", views.revoke_invitation, name="revoke_invitation"),
    path("invite/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("whatsapp/", views.whatsapp, name="whatsapp"),
    path("whatsapp/wabas/connect/", views.connect_waba, name="connect_waba"),
    path("whatsapp/numbers/add/", views.add_phone_number, name="add_phone_number"),
    path("whatsapp/numbers/<int:pk>/", views.phone_number, name="phone_number"),
    path("audit/", views.audit, name="audit"),
    path("audit/<int:pk>/", views.audit_event, name="audit_event"),
    path("api-keys/", views.api_keys, name="api_keys"),
    path("api-keys/<int:pk>/revoke/", views.revoke_api_key, name="revoke_api_key"),
]
