"""Meta's webhooks: received, verified and stored by the view (``receive``), processed later
by Celery (``processing`` routes each change to its agency and hands it to ``inbound``,
``statuses``, ``keywords`` or ``account``). Nothing is acknowledged before it is stored."""
