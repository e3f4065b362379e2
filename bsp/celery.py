"""The Celery application, its queues and the beat schedule."""

from __future__ import annotations

import os
from enum import StrEnum

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bsp.settings.production")


class CeleryQueue(StrEnum):
    """Separate queues so that a campaign backlog never delays an agent's reply."""

    AGENT_REPLIES = "agent_replies"
    BULK = "bulk"
    WEBHOOKS = "webhooks"
    MEDIA = "media"
    HOUSEKEEPING = "housekeeping"
    # Deliveries to integrators' URLs: slow receivers (10 s timeouts) never hold up the
    # processing of Meta's webhooks on WEBHOOKS.
    INTEGRATIONS = "integrations"
    EVENTS = "events"
    DEFAULT = "default"


app = Celery("bsp", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(q.value) for q in CeleryQueue]
app.conf.task_default_queue = CeleryQueue.DEFAULT.value
app.conf.beat_schedule = {
    "messaging.requeue_stuck_messages": {
        "task": "messaging.requeue_stuck_messages",
        "schedule": 60.0,
        "options": {"queue": CeleryQueue.HOUSEKEEPING.value},
    },
    "messaging.sweep_webhook_events": {
        "task": "messaging.sweep_webhook_events",
        "schedule": 15.0,
        "options": {"queue": CeleryQueue.HOUSEKEEPING.value},
    },
    "messaging.apply_parked_statuses": {
        "task": "messaging.apply_parked_statuses",
        "schedule": 60.0,
        "options": {"queue": CeleryQueue.HOUSEKEEPING.value},
    },
    # The event dispatcher is woken after each publishing commit; this is the safety net
    # (a lost wake-up, or Redis down for a while) and, in the demo, the only run.
    "events.dispatch_events": {
        "task": "events.dispatch_events",
        # EVENT_DISPATCH_SECONDS: 15 with Redis; 2 in the Redis-less demo (its only run).
        "schedule": float(os.environ.get("EVENT_DISPATCH_SECONDS", "0") or 0) or 15.0,
        "options": {"queue": CeleryQueue.EVENTS.value},
    },
    "events.prune_events": {
        "task": "events.prune_events",
        "schedule": 3600.0,
        "options": {"queue": CeleryQueue.HOUSEKEEPING.value},
    },
    "records.verify_audit_chains": {
        "task": "records.verify_audit_chains",
        "schedule": 3600.0,
        "options": {"queue": CeleryQueue.HOUSEKEEPING.value},
    },
    # Signed checkpoints of every agency's records (audit head + message tree root): the
    # interval is how long a rewrite of the newest records stays undetectable.
    "records.sign_checkpoints": {
        "task": "records.sign_checkpoints",
        "schedule": 300.0,
        "options": {"queue": CeleryQueue.HOUSEKEEPING.value},
    },
    # records_verify's checks (chains, checkpoints, leaves, media files, archive), daily.
    "records.verify_records": {
        "task": "records.verify_records",
        "schedule": 86400.0,
        "options": {"queue": CeleryQueue.HOUSEKEEPING.value},
    },
    # Inbound media still pending long after it arrived (a lost download task) is fetched
    # again, well before Meta forgets the media id (7 days).
    "records.sweep_pending_media": {
        "task": "records.sweep_pending_media",
        "schedule": 600.0,
        "options": {"queue": CeleryQueue.HOUSEKEEPING.value},
    },
    # The WORM archive (records.worm): conversations past their active period are written
    # to the Object Lock store; holds mirrored and retention extended (catch-up of the
    # stream consumer's tasks).
    "records.worm.archive": {
        "task": "records.worm.archive",
        "schedule": 3600.0,
        "options": {"queue": CeleryQueue.HOUSEKEEPING.value},
    },
    # Disposition eligibility (records.retention): a report per agency whose records are
    # past cutoff + retention; nothing is destroyed until a records officer approves.
    "records.compute_eligibility": {
        "task": "records.compute_eligibility",
        "schedule": 86400.0,
        "options": {"queue": CeleryQueue.HOUSEKEEPING.value},
    },
    # Integrator webhooks: retries due later than 5 minutes (their own countdown tasks cover
    # the rest) and any lost wake-up.
    "integrations.deliver_due": {
        "task": "integrations.deliver_due",
        "schedule": 15.0,
        "options": {"queue": CeleryQueue.INTEGRATIONS.value},
    },
    # The delivery log keeps finished deliveries for WEBHOOK_DELIVERY_RETENTION_DAYS.
    "integrations.purge_old_deliveries": {
        "task": "integrations.purge_old_deliveries",
        "schedule": 3600.0,
        "options": {"queue": CeleryQueue.HOUSEKEEPING.value},
    },
    "tenants.purge_expired_api_state": {
        "task": "tenants.purge_expired_api_state",
        "schedule": 3600.0,
        "options": {"queue": CeleryQueue.HOUSEKEEPING.value},
    },
    "inbox.wake_snoozed": {
        "task": "inbox.wake_snoozed",
        "schedule": 30.0,
        "options": {"queue": CeleryQueue.HOUSEKEEPING.value},
    },
    # Campaigns scheduled more than an hour ahead (or whose ETA task was lost), a split
    # campaign's next day's share, and a queueing whose task died start from here.
    "campaigns.run_due_campaigns": {
        "task": "campaigns.run_due_campaigns",
        "schedule": 30.0,
        "options": {"queue": CeleryQueue.HOUSEKEEPING.value},
    },
    # Meta's template list is the truth: a missed status webhook heals within the hour.
    "templates_mgr.sync_templates": {
        "task": "templates_mgr.sync_templates",
        "schedule": 3600.0,
        "options": {"queue": CeleryQueue.HOUSEKEEPING.value},
    },
}
app.autodiscover_tasks()
app.autodiscover_tasks(["tenants.api"])  # tenants/api/tasks.py (REST API housekeeping)

# Carry the request id of the HTTP request that enqueued a task into the task's logs.
from bsp import observability  # noqa: E402

observability.connect_celery_signals()
