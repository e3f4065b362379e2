"""Campaigns (broadcasts): an approved template to an audience of opted-in citizens."""

from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "messaging.campaigns"
    label = "campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bsp.events.dispatch import register_consumer
        from messaging.campaigns.consumers import campaign_consumer
        from messaging.reach import reach_consumer

        register_consumer(campaign_consumer)
        # The messaging limit's slots of failed and withdrawn messages (messaging.reach);
        # registered here, with the campaigns that fill the limit, until messaging's own
        # AppConfig registers consumers.
        register_consumer(reach_consumer)
