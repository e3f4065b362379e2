from django.apps import AppConfig


class TemplatesMgrConfig(AppConfig):
    name = "templates_mgr"
    default_auto_field = "django.db.models.BigAutoField"
