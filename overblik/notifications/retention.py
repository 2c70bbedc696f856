"""The messages sent to citizens leave with the nightly retention run.

Registered with ``borgerblikket.services.retention`` (``OverblikConfig.ready``): a
message made more than ``OVERBLIK_NOTIFICATION_RETENTION_DAYS`` ago and done with
(sent, nothing to send, bounced, stopped) is deleted; a message still pending or being
sent never is. Counted without a municipality: a message is a citizen's.
"""

import datetime as dt
from collections import Counter

from django.conf import settings
from django.db import transaction

from borgerblikket.models import RetentionCount
from overblik.models import NotificationMessage

Status = NotificationMessage.Status
DONE = (Status.SENT, Status.NOTHING, Status.BOUNCED, Status.STOPPED)


def notification_messages_purge(*, now: dt.datetime, size: int) -> Counter:
    cutoff = now - dt.timedelta(days=settings.OVERBLIK_NOTIFICATION_RETENTION_DAYS)
    counts: Counter = Counter()
    while True:
        with transaction.atomic():
            ids = list(
                NotificationMessage.objects.filter(created_at__lt=cutoff, status__in=DONE)
                .select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", flat=True)[:size]
            )
            if not ids:
                return counts
            NotificationMessage.objects.filter(pk__in=ids).delete()
        counts[(None, RetentionCount.Kind.NOTIFICATION)] += len(ids)
