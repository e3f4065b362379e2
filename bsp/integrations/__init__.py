"""Event webhooks to integrators: agencies subscribe URLs to events of the stream; each
delivery is signed and retried (issue 13 §2)."""
