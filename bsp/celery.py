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
    "inbox.wake_snoozed": {
        "task": "inbox.wake_snoozed",
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

# Carry the request id of the HTTP request that enqueued a task into the task's logs.
from bsp import observability  # noqa: E402

observability.connect_celery_signals()
