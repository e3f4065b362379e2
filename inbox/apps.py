from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bsp.events.dispatch import register_consumer
        from inbox.consumers import inbox_consumer

        register_consumer(inbox_consumer)
