from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "inbox.analytics"
    label = "inbox_analytics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bsp.events.dispatch import register_consumer
        from inbox.analytics.services import analytics_consumer

        register_consumer(analytics_consumer)
