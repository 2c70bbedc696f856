"""Feeds from source systems: registration, schedules and the cursor service.

``feed_poll`` reads a feed page by page from its cursor and hands each page's
records to ``records_apply_many`` — the engine behind the REST API, so polling
and pushing share one ingestion path. Each page is applied and the cursor moved
in ONE transaction (with the poll's counts), so after a crash, a timeout or an
exception the next poll starts exactly after the last applied page: no change
is lost and none is applied twice.
"""

import json
import logging
import traceback
from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from config.logging import redact_cpr
from indexes.feeds.adapters import DEFAULT_ADAPTER, adapter_get
from indexes.feeds.adapters.base import Page, PageUnreadable
from indexes.feeds.transport import FeedUnavailable, page_fetch
from indexes.models import FeedCursor, FeedPoll, FeedRejection, SourceFeed, SourceSystem
from indexes.payloads import external_id_shown
from indexes.services.errors import RecordRejected, nul_free
from indexes.services.ingestion import records_apply_many

logger = logging.getLogger(__name__)

# The task's name from before the feeds moved to indexes/feeds/: beat's PeriodicTask rows
# and queued messages name it (indexes/feeds/tasks.py keeps it).
POLL_TASK = "indexes.sources.feed_poll"
DEFAULT_EVERY_SECONDS = 300
BASE_URL_MAX_LENGTH = SourceFeed._meta.get_field("base_url").max_length
# Rejections kept per poll; the counts by reason are always complete.
REJECTIONS_KEPT_PER_PAGE = 500


class FeedConfigError(ValueError):
    """A feed setting is wrong; the message names the field."""


# --- registration and schedules ----------------------------------------------------------


@transaction.atomic
def feed_register(
    *,
    source_system: SourceSystem,
    base_url: str,
    adapter: str | None = None,
    page_size: int = 200,
    every_seconds: int = DEFAULT_EVERY_SECONDS,
    is_enabled: bool = True,
) -> SourceFeed:
    """Create or update the feed of ``source_system`` at ``base_url`` and its beat schedule.

    The feed is polled over HTTP at ``base_url`` (its pages below
    ``<base_url>/<municipality>/<the format's path>``), in ``adapter``'s format:
    by default the one its product speaks. An existing schedule keeps the
    interval an operator may have set in the admin.
    """
    adapter = adapter or DEFAULT_ADAPTER.get(source_system.product)
    if adapter is None:
        raise FeedConfigError(f"adapter: no default format for product {source_system.product}")
    try:
        adapter_get(adapter)
    except ValueError:
        raise FeedConfigError(f"adapter: unknown format {adapter!r}") from None
    if not base_url:
        raise FeedConfigError("base_url: required")
    if not base_url.startswith(("http://", "https://")):
        raise FeedConfigError("base_url: must start with http:// or https://")
    if len(base_url) > BASE_URL_MAX_LENGTH:
        raise FeedConfigError(f"base_url: at most {BASE_URL_MAX_LENGTH} characters")
    if not 1 <= page_size <= 5000:
        raise FeedConfigError("page_size: must be between 1 and 5000")
    if every_seconds < 1:
        raise FeedConfigError("every_seconds: must be at least 1")
    feed, _created = SourceFeed.objects.update_or_create(
        source_system=source_system,
        defaults={
            "adapter": adapter,
            "base_url": base_url,
            "page_size": page_size,
            "is_enabled": is_enabled,
        },
    )
    FeedCursor.objects.get_or_create(feed=feed)
    feed_schedule_ensure(feed=feed, every_seconds=every_seconds)
    return feed


def feed_schedule_ensure(*, feed: SourceFeed, every_seconds: int = DEFAULT_EVERY_SECONDS):
    """The feed's PeriodicTask (created if missing; enabled as the feed is)."""
    task = feed.periodic_task
    if task is None:
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=every_seconds, period=IntervalSchedule.SECONDS
        )
        task, _ = PeriodicTask.objects.update_or_create(
            name=f"Hent ændringer: {feed.source_system.name} ({feed.source_system.municipality_id})",
            defaults={
                "task": POLL_TASK,
                "interval": interval,
                "args": json.dumps([feed.pk]),
                "kwargs": json.dumps({"trigger": FeedPoll.Trigger.SCHEDULE}),
                "enabled": feed.is_enabled,
                "description": "Oprettet af feed_register; intervallet kan ændres her.",
            },
        )
        feed.periodic_task = task
        feed.save(update_fields=["periodic_task"])
    elif task.enabled != feed.is_enabled:
        task.enabled = feed.is_enabled
        task.save(update_fields=["enabled"])
    return task


def feed_enable(*, feed: SourceFeed, enabled: bool) -> SourceFeed:
    """Switch polling of a feed on or off (its schedule follows)."""
    feed.is_enabled = enabled
    feed.save(update_fields=["is_enabled"])
    feed_schedule_ensure(feed=feed)
    return feed


# --- polling -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PageResult:
    applied: bool  # False: another poll moved the cursor first; the page was dropped
    received: int


def feed_poll(
    *,
    feed_id: int,
    trigger: str = FeedPoll.Trigger.SCHEDULE,
    task_id: str = "",
    max_pages: int | None = None,
) -> FeedPoll | None:
    """Poll a feed from its cursor; the poll's record, or None if it did not run.

    It does not run when the feed or its source system is switched off, or when
    another poll of the feed is alive (a poll silent for longer than the feed's
    ``lease_seconds`` is marked interrupted and this one takes over). At most
    ``max_pages`` pages (default: the feed's ``max_pages_per_poll``) are read;
    ``more_pending`` says whether the feed had more.
    """
    feed = SourceFeed.objects.select_related("source_system").get(pk=feed_id)
    if not feed.is_enabled or not feed.source_system.is_active:
        logger.info("feed %s is switched off; not polled", feed_id)
        return None
    poll = _poll_start(feed=feed, trigger=trigger, task_id=task_id)
    if poll is None:
        logger.info("feed %s is being polled already; skipped", feed_id)
        return None
    adapter = adapter_get(feed.adapter)
    pages_left = max_pages or feed.max_pages_per_poll
    status, error, more = FeedPoll.Status.SUCCEEDED, "", False
    try:
        while True:
            position = FeedCursor.objects.values_list("position", flat=True).get(feed=feed)
            FeedPoll.objects.filter(pk=poll.pk).update(heartbeat_at=timezone.now())
            params = adapter.request_params(cursor=position, limit=feed.page_size)
            body = page_fetch(feed=feed, adapter=adapter, params=params)
            page = adapter.page_parse(
                body=body,
                cursor=position,
                municipality=feed.source_system.municipality_id,
                limit=feed.page_size,
            )
            result = _page_apply(feed=feed, poll=poll, position=position, page=page)
            if not result.applied:
                continue  # another poll moved on; read from its cursor
            pages_left -= 1
            if not page.has_more:
                break
            if pages_left <= 0:
                more = True
                break
    except (PageUnreadable, FeedUnavailable) as exc:
        status, error = FeedPoll.Status.FAILED, redact_cpr(f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        # Anything else is a bug or a database failure: the page's transaction
        # rolled back, so the cursor is where it was. Keep a masked trace for
        # operators; never log the raw message (it may quote a CPR number).
        status = FeedPoll.Status.FAILED
        error = redact_cpr(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")[-4000:]
        logger.error("poll of feed %s failed: %s", feed_id, redact_cpr(type(exc).__name__))
    now = timezone.now()
    FeedPoll.objects.filter(pk=poll.pk, status=FeedPoll.Status.RUNNING).update(
        status=status, error=error, more_pending=more, finished_at=now, heartbeat_at=now
    )
    poll.refresh_from_db()
    return poll


def _poll_start(*, feed: SourceFeed, trigger: str, task_id: str) -> FeedPoll | None:
    now = timezone.now()
    with transaction.atomic():
        # Serialises starts of the same feed (a no-op lock on SQLite, which is single-writer).
        cursor = FeedCursor.objects.select_for_update().get(feed=feed)
        running = FeedPoll.objects.filter(feed=feed, status=FeedPoll.Status.RUNNING).first()
        if running is not None:
            silent = (now - running.heartbeat_at).total_seconds()
            if silent < feed.lease_seconds:
                return None
            running.status = FeedPoll.Status.INTERRUPTED
            running.finished_at = now
            running.error = (
                f"Ingen livstegn i {int(silent)} sekunder; antaget stoppet (fx en dræbt worker). "
                "Sider der ikke blev gemt, hentes igen fra markøren."
            )
            running.save(update_fields=["status", "finished_at", "error"])
        return FeedPoll.objects.create(
            feed=feed,
            status=FeedPoll.Status.RUNNING,
            trigger=trigger,
            task_id=task_id,
            started_at=now,
            heartbeat_at=now,
            cursor_before=cursor.position,
            cursor_after=cursor.position,
        )


def _page_apply(*, feed: SourceFeed, poll: FeedPoll, position: str, page: Page) -> PageResult:
    """Apply one page and move the cursor past it, all or nothing."""
    now = timezone.now()
    with transaction.atomic():
        cursor = FeedCursor.objects.select_for_update().get(feed=feed)
        if cursor.position != position:
            return PageResult(applied=False, received=0)
        tally: Counter[str] = Counter()
        by_code: Counter[str] = Counter()
        rejections: list[FeedRejection] = []

        def reject(delivery, problems) -> None:
            tally["rejected"] += 1
            code = problems[0].code if problems else "rejected"
            by_code[code] += 1
            if len(rejections) < REJECTIONS_KEPT_PER_PAGE:
                timestamp = str((delivery.payload or {}).get("source_timestamp", ""))
                rejections.append(
                    FeedRejection(
                        poll=poll,
                        feed=feed,
                        kind=delivery.kind,
                        external_id=external_id_shown(delivery.external_id),
                        code=code[:50],
                        problems=[nul_free(problem.as_dict()) for problem in problems],
                        source_timestamp=nul_free(timestamp)[:40],
                        received_at=now,
                    )
                )

        mappable = [d for d in page.deliveries if not d.problems]
        for delivery in page.deliveries:
            if delivery.problems:
                reject(delivery, delivery.problems)
        if mappable:
            results = records_apply_many(
                source_system=feed.source_system,
                items=[(d.kind, d.payload) for d in mappable],
                received_at=now,
            )
            for delivery, result in zip(mappable, results, strict=True):
                if isinstance(result, RecordRejected):
                    reject(delivery, result.problems)
                else:
                    tally[result.outcome] += 1
        FeedRejection.objects.bulk_create(rejections)
        received = len(page.deliveries)
        cursor.position = page.next_cursor
        cursor.advanced_at = now
        cursor.pages = F("pages") + 1
        cursor.records = F("records") + received
        cursor.save(update_fields=["position", "advanced_at", "pages", "records"])
        poll_row = FeedPoll.objects.select_for_update().get(pk=poll.pk)
        merged = Counter(poll_row.rejected_by_code) + by_code
        FeedPoll.objects.filter(pk=poll.pk).update(
            pages=F("pages") + 1,
            received=F("received") + received,
            created=F("created") + tally["created"],
            updated=F("updated") + tally["updated"],
            unchanged=F("unchanged") + tally["unchanged"],
            stale=F("stale") + tally["stale"],
            retracted=F("retracted") + tally["retracted"],
            rejected=F("rejected") + tally["rejected"],
            rejected_by_code=dict(merged),
            cursor_after=page.next_cursor,
            heartbeat_at=now,
        )
    return PageResult(applied=True, received=received)


def feeds_due(*, enabled_only: bool = True) -> list[SourceFeed]:
    """Every feed (the enabled ones by default), for "poll all now"."""
    feeds = SourceFeed.objects.select_related("source_system").order_by("pk")
    if enabled_only:
        feeds = feeds.filter(is_enabled=True, source_system__is_active=True)
    return list(feeds)
