from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from bsp import health
from messaging.webhooks.receive import whatsapp_webhook

# Swagger UI with its start-up script served as a file: the platform's policy as it is.
api_docs = SpectacularSwaggerSplitView.as_view(
    url_name="api-schema", template_name="frontend/api_docs.html"
)

# allauth's rate-limit answer (sign-in from one IP too often), audited by tenants.
handler429 = "tenants.adapters.respond_429"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages without an icon link (the Django admin's).
    path("favicon.ico", RedirectView.as_view(url="/static/frontend/favicon.svg", permanent=True)),
    path("readyz", health.readyz, name="readyz"),
    path("webhooks/whatsapp", whatsapp_webhook, name="whatsapp_webhook"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("tenants.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("inbox/", include("inbox.urls")),
    path("templates/", include("templates_mgr.urls")),
    path("contacts/", include("messaging.consent.urls")),
    path("optin/", include("messaging.consent.public_urls")),  # public: no sign-in
    path("campaigns/", include("messaging.campaigns.urls")),
    path("", include("frontend.urls")),
]
