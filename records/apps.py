from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bsp.events.dispatch import register_consumer
        from records.holds.consumers import holds_consumer

        # Celery autodiscovers records/tasks.py only: the parts' tasks are imported here.
        from records.retention import tasks as retention_tasks  # noqa: F401
        from records.worm import tasks as worm_tasks  # noqa: F401
        from records.worm.consumers import worm_consumer

        register_consumer(holds_consumer)  # before worm's: a new arrival is held, then mirrored
        register_consumer(worm_consumer)
