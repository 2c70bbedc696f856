"""Admin of scheduled ingestion: per source system, its feed, cursor and what each poll did.

Read-only: feeds are registered by ``feed_register`` (the demo's by ``demo_load``) and the
schedule is edited on its django-celery-beat PeriodicTask (linked). Actions
only call services and tasks. Texts shown are masked for CPR numbers, in case
a source system put one where it should not.
"""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from config.logging import redact_cpr
from indexes.feeds.services import feed_enable
from indexes.feeds.tasks import feed_poll_task
from indexes.models import FeedPoll, FeedRejection, SourceFeed


class _ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SourceFeed)
class SourceFeedAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = [
        "source_system", "municipality", "adapter", "is_enabled", "position", "last_poll",
        "received_total", "rejected_total",
    ]  # fmt: skip
    list_filter = ["adapter", "is_enabled", "source_system__municipality"]
    search_fields = ["source_system__name", "source_system__municipality__name"]
    list_select_related = ["source_system__municipality", "cursor"]
    readonly_fields = [
        "source_system", "adapter", "base_url", "page_size", "max_pages_per_poll",
        "timeout_seconds", "lease_seconds", "is_enabled", "schedule", "position", "created_at",
        "recent_polls",
    ]  # fmt: skip
    fields = readonly_fields
    actions = ["poll_now", "switch_on", "switch_off"]
    recent_polls_shown = 15

    @admin.display(description=_("kommune"), ordering="source_system__municipality")
    def municipality(self, feed: SourceFeed):
        return feed.source_system.municipality

    @admin.display(description=_("markør"))
    def position(self, feed: SourceFeed) -> str:
        cursor = getattr(feed, "cursor", None)
        if cursor is None:
            return "-"
        return f"{cursor.position or '(start)'} · {cursor.records:,} poster"

    @admin.display(description=_("seneste hentning"))
    def last_poll(self, feed: SourceFeed) -> str:
        poll = feed.polls.order_by("-started_at").first()
        if poll is None:
            return "-"
        return f"{poll.started_at:%Y-%m-%d %H:%M} {poll.get_status_display()}"

    @admin.display(description=_("modtaget i alt"))
    def received_total(self, feed: SourceFeed) -> int:
        cursor = getattr(feed, "cursor", None)
        return cursor.records if cursor else 0

    @admin.display(description=_("afvist i alt"))
    def rejected_total(self, feed: SourceFeed) -> int:
        return feed.rejections.count()

    @admin.display(description=_("tidsplan"))
    def schedule(self, feed: SourceFeed):
        task = feed.periodic_task
        if task is None:
            return "-"
        url = reverse("admin:django_celery_beat_periodictask_change", args=[task.pk])
        return format_html('<a href="{}">{} ({})</a>', url, task.interval or task, task.enabled)

    @admin.display(description=_("seneste hentninger"))
    def recent_polls(self, feed: SourceFeed):
        polls = feed.polls.order_by("-started_at")[: self.recent_polls_shown]
        rows = format_html_join(
            "",
            "<tr><td><a href='{}'>{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    reverse("admin:indexes_feedpoll_change", args=[poll.pk]),
                    f"{poll.started_at:%Y-%m-%d %H:%M:%S}",
                    poll.get_status_display(),
                    poll.pages,
                    poll.received,
                    poll.created,
                    poll.updated,
                    poll.unchanged,
                    poll.stale,
                    poll.rejected,
                    redact_cpr(poll.error.splitlines()[0])[:100] if poll.error else "",
                )
                for poll in polls
            ),
        )
        every = reverse("admin:indexes_feedpoll_changelist") + f"?feed__id__exact={feed.pk}"
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
            "<th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table><p><a href='{}'>{}</a></p>",
            _("startet"), _("status"), _("sider"), _("modtaget"), _("oprettet"), _("ændret"),
            _("uændret"), _("forældet"), _("afvist"), _("fejl"), rows, every,
            _("Alle hentninger"),
        )  # fmt: skip

    def has_poll_permission(self, request) -> bool:
        return request.user.has_perm("indexes.change_sourcefeed")

    @admin.action(description=_("Hent ændringer nu"), permissions=["poll"])
    def poll_now(self, request, queryset):
        for feed in queryset:
            feed_poll_task.delay(feed.pk, FeedPoll.Trigger.MANUAL)
        self.message_user(request, _("Hentning sat i kø for %d feeds.") % queryset.count())

    @admin.action(description=_("Slå hentning til"), permissions=["poll"])
    def switch_on(self, request, queryset):
        for feed in queryset:
            feed_enable(feed=feed, enabled=True)
        self.message_user(request, _("Slået til."), messages.SUCCESS)

    @admin.action(description=_("Slå hentning fra"), permissions=["poll"])
    def switch_off(self, request, queryset):
        for feed in queryset:
            feed_enable(feed=feed, enabled=False)
        self.message_user(request, _("Slået fra."), messages.SUCCESS)


class FeedRejectionInline(_ReadOnly, admin.TabularInline):
    model = FeedRejection
    extra = 0
    max_num = 0
    fields = ["kind", "shown_external_id", "code", "messages", "source_timestamp"]
    readonly_fields = fields

    @admin.display(description=_("eksternt id"))
    def shown_external_id(self, rejection: FeedRejection) -> str:
        return redact_cpr(rejection.external_id)

    @admin.display(description=_("problemer"))
    def messages(self, rejection: FeedRejection) -> str:
        return redact_cpr(
            "; ".join(f"{p.get('pointer') or '/'}: {p.get('message')}" for p in rejection.problems)
        )


@admin.register(FeedPoll)
class FeedPollAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = [
        "started_at", "feed", "status", "trigger", "pages", "received", "created", "updated",
        "unchanged", "stale", "rejected", "more_pending",
    ]  # fmt: skip
    list_filter = [
        "status", "trigger", "feed__source_system__municipality", "feed__source_system__product",
    ]  # fmt: skip
    date_hierarchy = "started_at"
    list_select_related = ["feed__source_system__municipality"]
    readonly_fields = [
        "feed", "status", "trigger", "task_id", "started_at", "heartbeat_at", "finished_at",
        "cursor_before", "cursor_after", "pages", "received", "created", "updated", "unchanged",
        "stale", "retracted", "rejected", "rejected_by_code", "more_pending", "shown_error",
    ]  # fmt: skip
    fields = readonly_fields
    inlines = [FeedRejectionInline]

    @admin.display(description=_("fejl"))
    def shown_error(self, poll: FeedPoll) -> str:
        return redact_cpr(poll.error)


@admin.register(FeedRejection)
class FeedRejectionAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ["received_at", "feed", "kind", "shown_external_id", "code", "messages"]
    list_filter = ["code", "kind", "feed__source_system__municipality", "feed"]
    list_select_related = ["feed__source_system__municipality"]
    readonly_fields = [
        "poll", "feed", "kind", "shown_external_id", "code", "messages", "source_timestamp",
        "received_at",
    ]  # fmt: skip
    fields = readonly_fields

    shown_external_id = FeedRejectionInline.shown_external_id
    messages = FeedRejectionInline.messages
