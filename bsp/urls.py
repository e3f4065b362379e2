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
# Under /api/ the errors are problem documents (RFC 9457), elsewhere the site's pages.
handler400 = "tenants.api.handlers.bad_request"
handler403 = "tenants.api.handlers.permission_denied"
handler404 = "tenants.api.handlers.page_not_found"
handler500 = "tenants.api.handlers.server_error"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages without an icon link (the Django admin's).
    path("favicon.ico", RedirectView.as_view(url="/static/frontend/favicon.svg", permanent=True)),
    path("readyz", health.readyz, name="readyz"),
    path("webhooks/whatsapp", whatsapp_webhook, name="whatsapp_webhook"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    # One /api/v1/: the shared parts (auth, agency, audit) in tenants.api, each app's
    # resources next to its services.
    path("api/v1/", include("tenants.api.urls")),
    path("api/v1/", include("messaging.api.urls")),
    path("api/v1/", include("messaging.consent.api.urls")),
    path("api/v1/", include("messaging.campaigns.api.urls")),
    path("api/v1/", include("inbox.api.urls")),
    path("api/v1/", include("templates_mgr.api.urls")),
    path("api/v1/", include("records.api.urls")),
    path("api/v1/", include("bsp.integrations.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("inbox/", include("inbox.urls")),
    path("templates/", include("templates_mgr.urls")),
    path("contacts/", include("messaging.consent.urls")),
    path("optin/", include("messaging.consent.public_urls")),  # public: no sign-in
    path("campaigns/", include("messaging.campaigns.urls")),
    path("integrations/", include("bsp.integrations.urls", namespace="integrations")),
    path("", include("records.urls")),  # /.well-known/civic-relay-records-key (public)
    path("", include("frontend.urls")),
]
