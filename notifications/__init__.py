"""Notification channels, templates, policy and the outbox dispatcher (later issues). Never imports `backend`."""
