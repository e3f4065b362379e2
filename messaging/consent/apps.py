from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "messaging.consent"
    label = "consent"
    verbose_name = "Consent"
    default_auto_field = "django.db.models.BigAutoField"
