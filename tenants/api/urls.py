from django.urls import path

from tenants.api import views
from tenants.api.oauth import TokenApi

urlpatterns = [
    path("oauth/token/", TokenApi.as_view(), name="api-oauth-token"),
    path("agency", views.CurrentAgencyApi.as_view(), name="api-agency"),
    path("credential", views.CurrentCredentialApi.as_view(), name="api-credential"),
    path("members/", views.MembershipListApi.as_view(), name="api-members"),
    path("members/<int:pk>/", views.MembershipDetailApi.as_view(), name="api-member"),
    path("phone-numbers/", views.PhoneNumberListApi.as_view(), name="api-phone-numbers"),
    path("phone-numbers/<int:pk>/", views.PhoneNumberDetailApi.as_view(), name="api-phone-number"),
    path("audit-events/", views.AuditEventListApi.as_view(), name="api-audit-events"),
    path("audit-events/<int:pk>/", views.AuditEventDetailApi.as_view(), name="api-audit-event"),
]
