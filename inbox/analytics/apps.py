from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "inbox.analytics"
    label = "inbox_analytics"
    default_auto_field = "django.db.models.BigAutoField"
