from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "bsp.integrations"
    label = "integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bsp.events.dispatch import register_consumer
        from bsp.integrations.consumers import webhook_consumer

        register_consumer(webhook_consumer)
