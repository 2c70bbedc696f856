"""Notifications to citizens (issue 14): settings, the outbox's dispatch, sending.

- ``settings``: a citizen's settings, addresses confirmed with one-time codes,
  unsubscribe tokens (RFC 8058 one-click).
- ``dispatch``: outbox events (``indexes.models.NotificationEvent``, written by
  ingestion in the change's transaction) become pending messages, one per citizen,
  channel and digest window; the daily deadline reminders.
- ``sending``: a due message is checked against the visibility rule
  (``borgerblikket.selectors``) and sent once, with its idempotency key, retried
  with backoff; a hard bounce stops the channel.
- ``channels``: e-mail through Django's SMTP backend, SMS through a provider.

docs/notifications.md tells the whole story.
"""
