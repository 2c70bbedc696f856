"""Celery tasks of the portal: the citizens' notifications (thin wrappers of services)."""

from celery import shared_task

from overblik.notifications.dispatch import outbox_dispatch, reminders_write
from overblik.notifications.sending import message_send, messages_due


@shared_task(name="overblik.notifications_dispatch", acks_late=True, bind=True)
def notifications_dispatch_task(self, rounds: int = 50) -> dict:
    """Outbox events into messages, then every due message to a send task (Celery beat,
    every ``OVERBLIK_NOTIFICATION_SWEEP_EVERY`` seconds). Idempotent: a second run
    finds the events taken and the messages claimed."""
    events = 0
    for _ in range(rounds):
        taken = outbox_dispatch()
        events += taken
        if not taken:
            break
    due = messages_due()
    # The send tasks go where this task came from (a worker's own queue in tests).
    queue = (self.request.delivery_info or {}).get("routing_key")
    for message_id in due:
        notification_send_task.apply_async((message_id,), queue=queue)
    return {"events": events, "queued": len(due)}


@shared_task(name="overblik.notification_send", acks_late=True)
def notification_send_task(message_id: int) -> str | None:
    """Send one message (a duplicate task finds it claimed or sent and does nothing)."""
    return message_send(message_id)


@shared_task(name="overblik.notifications_reminders", acks_late=True)
def notifications_reminders_task() -> int:
    """The day's deadline reminders into the outbox (Celery beat, each morning)."""
    return reminders_write()
