"""Sending a due message: the visibility rule at sending time, once per idempotency key.

``message_send`` takes the message (``FOR UPDATE SKIP LOCKED``: one worker at a
time), marks it ``sending`` with a lease and commits, asks the one door which of its
events the citizen may still see (nothing visible: ``nothing``, nothing sent), sends
the fixed text ("Der er nyt i en af dine sager på Mit Overblik" and a link — never a
CPR number, case title or other detail), and marks it ``sent``. The server or gateway
down: back to ``pending`` with a later ``due_at`` (doubling backoff). A hard bounce:
``bounced``, and the settings' channel stops. A worker killed mid-send leaves the
message ``sending``; when the lease runs out ``messages_due`` takes it up again, with
the same idempotency key (``channels``).
"""

import datetime as dt
import logging

from django.conf import settings as conf
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from borgerblikket import selectors as bs
from overblik.models import Channel, NotificationMessage, NotificationSettings
from overblik.notifications import channels
from overblik.notifications.dispatch import sms_hours
from overblik.notifications.preferences import FIELD, unsubscribe_token
from overblik.services import citizen_cpr_digest

logger = logging.getLogger(__name__)
Status = NotificationMessage.Status


def _backoff(attempts: int) -> dt.timedelta:
    seconds = conf.OVERBLIK_NOTIFICATION_RETRY_BASE * 2 ** max(0, attempts - 1)
    return dt.timedelta(seconds=min(seconds, conf.OVERBLIK_NOTIFICATION_RETRY_MAX))


def messages_due(*, now: dt.datetime | None = None, limit: int = 1000) -> list[int]:
    """Ids of messages to send now: pending and due, or ``sending`` with a lapsed lease."""
    now = now or timezone.now()
    return list(
        NotificationMessage.objects.filter(
            Q(status=Status.PENDING, due_at__lte=now)
            | Q(status=Status.SENDING, lease_until__lt=now)
        )
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )


def _visible_items(message: NotificationMessage) -> list[list]:
    digest = message.settings.citizen.cpr_digest
    items = {tuple(item) for item in message.items}
    parties = bs.event_parties([(t, i) for _, t, i in items])
    visible = []
    for topic, record_type, record_id in sorted(items):
        for cpr in parties.get((record_type, record_id), ()):
            if citizen_cpr_digest(cpr=cpr) != digest:
                continue
            if bs.record_visible_to_citizen(cpr=cpr, record_type=record_type, record_id=record_id):
                visible.append([topic, record_type, record_id])
                break
    return visible


def _links(settings: NotificationSettings, channel: str) -> dict:
    base = conf.OVERBLIK_PUBLIC_URL
    token = unsubscribe_token(settings_id=settings.pk, channel=channel)
    return {
        "overview_url": base + reverse("overblik:overview"),
        "settings_url": base + reverse("overblik:notifications"),
        "unsubscribe_url": base + reverse("overblik:unsubscribe", args=[token]),
    }


def content(message: NotificationMessage, topics: list[str]) -> dict:
    """What is sent: the fixed sentence and links, in the citizen's language."""
    settings = message.settings
    links = _links(settings, message.channel)
    with translation.override(settings.language):
        context = links | {"deadline": "deadline" in topics, "language": settings.language}
        if message.channel == Channel.SMS:
            return {"text": render_to_string("overblik/notifications/sms.txt", context).strip()}
        return {
            "subject": _("Der er nyt i en af dine sager på Mit Overblik"),
            "text": render_to_string("overblik/notifications/message.txt", context),
            "html": render_to_string("overblik/notifications/message.html", context),
            "headers": {
                "List-Unsubscribe": f"<{links['unsubscribe_url']}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        }


def _claim(message_id: int, now: dt.datetime) -> NotificationMessage | None:
    with transaction.atomic():
        message = (
            NotificationMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id)
            .filter(
                Q(status=Status.PENDING, due_at__lte=now)
                | Q(status=Status.SENDING, lease_until__lt=now)
            )
            .first()
        )
        if message is None:
            return None
        if message.channel == Channel.SMS:
            opening = sms_hours(now)
            if opening > now:  # outside the SMS hours (a retry that slipped past 20:00)
                message.status, message.due_at = Status.PENDING, opening
                message.save(update_fields=["status", "due_at"])
                return None
        message.status = Status.SENDING
        message.attempts += 1
        message.lease_until = now + dt.timedelta(seconds=conf.OVERBLIK_NOTIFICATION_LEASE_SECONDS)
        message.save(update_fields=["status", "attempts", "lease_until"])
    return message


def _finish(message: NotificationMessage, status: str, **fields) -> None:
    NotificationMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=status, lease_until=None, **fields
    )


def message_send(message_id: int, *, now: dt.datetime | None = None) -> str | None:
    """Send one message if it is due; its new status (None: not taken)."""
    now = now or timezone.now()
    message = _claim(message_id, now)
    if message is None:
        return None
    settings = NotificationSettings.objects.select_related("citizen").get(pk=message.settings_id)
    message.settings = settings
    if settings.paused or not settings.channel_active(message.channel):
        _finish(message, Status.STOPPED)
        return Status.STOPPED
    visible = _visible_items(message)
    if not visible:
        _finish(message, Status.NOTHING)
        return Status.NOTHING
    topics = sorted({topic for topic, _, _ in visible})
    body = content(message, topics)
    key = str(message.idempotency_key)
    try:
        if message.channel == Channel.EMAIL:
            channels.email_send(channels.Email(to=settings.email, **body), key=key)
        else:
            channels.sms_send(to=settings.mobile, text=body["text"], key=key)
    except channels.HardBounce as exc:
        field = FIELD[message.channel]
        NotificationSettings.objects.filter(pk=settings.pk).update(
            **{f"{field}_bounced_at": timezone.now()}
        )
        _finish(message, Status.BOUNCED, last_error=str(exc)[:200], topics=topics)
        logger.info("notification %s bounced on %s", message.pk, message.channel)
        return Status.BOUNCED
    except channels.Transient as exc:
        _finish(
            message,
            Status.PENDING,
            due_at=now + _backoff(message.attempts),
            last_error=str(exc)[:200],
        )
        logger.info("notification %s deferred: %s", message.pk, exc)
        return Status.PENDING
    _finish(message, Status.SENT, sent_at=timezone.now(), topics=topics, last_error="")
    return Status.SENT


def messages_for_citizen(*, citizen_id: int, limit: int = 50):
    """What was sent to the citizen (or stopped), newest first, for the settings page."""
    return (
        NotificationMessage.objects.filter(settings__citizen_id=citizen_id)
        .exclude(status__in=[Status.PENDING, Status.SENDING, Status.NOTHING])
        .order_by("-created_at", "-pk")[:limit]
    )
