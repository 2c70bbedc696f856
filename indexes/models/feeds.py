"""Scheduled ingestion: how the index polls each source system, where it got to, what it did.

- ``SourceFeed``: one source system's feed — its adapter (wire format), the
  address it is polled at over HTTP, its schedule.
- ``FeedCursor``: how far the index has read the feed. It moves only in the
  same transaction that applies the page it belongs to, so a crash never loses
  or repeats a change.
- ``FeedPoll``: one poll and what it did; ``FeedRejection``: each record a poll
  could not accept, with the reasons (the data-quality report reads these).
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class FeedAdapter(models.TextChoices):
    """The wire formats the index can read (``indexes.feeds.adapters``)."""

    FASIT_JSON = "fasit_json", _("FASIT hændelsesfeed (JSON)")
    SBSYS_XML = "sbsys_xml", _("SBSYS natlig eksport (XML)")
    NEXUS_CSV = "nexus_csv", _("Nexus ydelseseksport (CSV)")
    KMD_YDELSE_NDJSON = "kmd_ydelse_ndjson", _("KMD Ydelse leverancer (NDJSON)")


class SourceFeed(models.Model):
    """The feed the index polls for one source system."""

    source_system = models.OneToOneField(
        "indexes.SourceSystem",
        on_delete=models.CASCADE,
        related_name="feed",
        verbose_name=_("fagsystem"),
    )
    adapter = models.CharField(_("format"), max_length=30, choices=FeedAdapter.choices)
    # Where the feed is polled over HTTP (feed_register requires one; a poll of a feed
    # without one fails and says so).
    base_url = models.URLField(_("adresse"), max_length=500, blank=True)
    # Unused by the product. Until feeds were always fetched over HTTP, a simulated feed
    # kept its simulator's settings here; the stand-ins (simulators.feeds) read them once
    # to give such a feed of an old development database its address, and empty it.
    simulator = models.JSONField(_("simulator"), default=dict, blank=True)
    page_size = models.PositiveIntegerField(_("poster pr. side"), default=200)
    max_pages_per_poll = models.PositiveIntegerField(_("sider pr. hentning"), default=50)
    timeout_seconds = models.PositiveIntegerField(_("timeout (sekunder)"), default=30)
    # A running poll without a sign of life for this long is taken to have died.
    lease_seconds = models.PositiveIntegerField(_("lejetid (sekunder)"), default=600)
    is_enabled = models.BooleanField(_("aktiv"), default=True)
    # The beat schedule operators edit in the admin (django-celery-beat).
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tidsplan"),
    )
    created_at = models.DateTimeField(_("oprettet"), default=timezone.now)

    class Meta:
        ordering = ["source_system__municipality", "source_system__name"]
        verbose_name = _("feed fra fagsystem")
        verbose_name_plural = _("feeds fra fagsystemer")
        constraints = [
            models.CheckConstraint(
                condition=Q(page_size__gte=1) & Q(page_size__lte=5000),
                name="source_feed_page_size_range",
            ),
            models.CheckConstraint(
                condition=Q(max_pages_per_poll__gte=1), name="source_feed_max_pages_positive"
            ),
            models.CheckConstraint(
                condition=Q(timeout_seconds__gte=1) & Q(lease_seconds__gte=1),
                name="source_feed_timeouts_positive",
            ),
            models.CheckConstraint(
                condition=Q(base_url="") | Q(base_url__regex=r"^https?://"),
                name="source_feed_base_url_http",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_system} ({self.get_adapter_display()})"


class FeedCursor(models.Model):
    """How far the index has read a feed: the source system's own cursor, opaque."""

    feed = models.OneToOneField(
        SourceFeed, on_delete=models.CASCADE, primary_key=True, related_name="cursor"
    )
    position = models.CharField(_("position"), max_length=500, blank=True)
    advanced_at = models.DateTimeField(_("senest flyttet"), null=True, blank=True)
    pages = models.PositiveBigIntegerField(_("sider i alt"), default=0)
    records = models.PositiveBigIntegerField(_("poster i alt"), default=0)

    class Meta:
        verbose_name = _("markør")
        verbose_name_plural = _("markører")

    def __str__(self) -> str:
        return f"{self.feed_id}: {self.position or '(start)'}"


class FeedPoll(models.Model):
    """One poll of a feed and what it did."""

    class Status(models.TextChoices):
        RUNNING = "running", _("I gang")
        SUCCEEDED = "succeeded", _("Gennemført")
        FAILED = "failed", _("Fejlet")
        INTERRUPTED = "interrupted", _("Afbrudt")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Tidsplan")
        MANUAL = "manual", _("Manuelt")
        CONTINUATION = "continuation", _("Fortsættelse")
        DEMO = "demo", _("Demo")

    feed = models.ForeignKey(
        SourceFeed, on_delete=models.CASCADE, related_name="polls", verbose_name=_("feed")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.RUNNING
    )
    trigger = models.CharField(
        _("udløst af"), max_length=12, choices=Trigger.choices, default=Trigger.SCHEDULE
    )
    task_id = models.CharField(_("opgave-id"), max_length=255, blank=True)
    started_at = models.DateTimeField(_("startet"), default=timezone.now)
    heartbeat_at = models.DateTimeField(_("seneste livstegn"), default=timezone.now)
    finished_at = models.DateTimeField(_("afsluttet"), null=True, blank=True)
    cursor_before = models.CharField(_("markør før"), max_length=500, blank=True)
    cursor_after = models.CharField(_("markør efter"), max_length=500, blank=True)
    pages = models.PositiveIntegerField(_("sider"), default=0)
    received = models.PositiveIntegerField(_("modtaget"), default=0)
    created = models.PositiveIntegerField(_("oprettet"), default=0)
    updated = models.PositiveIntegerField(_("ændret"), default=0)
    unchanged = models.PositiveIntegerField(_("uændret"), default=0)
    stale = models.PositiveIntegerField(_("forældet"), default=0)
    retracted = models.PositiveIntegerField(_("tilbagekaldt"), default=0)
    rejected = models.PositiveIntegerField(_("afvist"), default=0)
    # Rejections by problem code, e.g. {"unknown_kle": 3}.
    rejected_by_code = models.JSONField(_("afvist pr. årsag"), default=dict, blank=True)
    more_pending = models.BooleanField(_("mere at hente"), default=False)
    # Why the poll stopped early; CPR numbers are masked before it is stored.
    error = models.TextField(_("fejl"), blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("hentning")
        verbose_name_plural = _("hentninger")
        constraints = [
            # At most one poll of a feed runs at a time (a dead one is marked interrupted).
            models.UniqueConstraint(
                fields=["feed"], condition=Q(status="running"), name="feed_poll_one_running"
            ),
        ]
        indexes = [models.Index(fields=["feed", "-started_at"], name="feed_poll_recent_idx")]

    def __str__(self) -> str:
        return f"{self.feed_id} {self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def applied(self) -> int:
        return self.created + self.updated + self.retracted


class FeedRejection(models.Model):
    """A delivered record a poll could not accept, and why."""

    poll = models.ForeignKey(FeedPoll, on_delete=models.CASCADE, related_name="rejections")
    feed = models.ForeignKey(SourceFeed, on_delete=models.CASCADE, related_name="rejections")
    kind = models.CharField(_("posttype"), max_length=20)
    external_id = models.CharField(_("eksternt id"), max_length=100, blank=True)
    code = models.CharField(_("årsag"), max_length=50)  # the first problem's code
    # [{"pointer", "code", "message"}]; messages never contain a CPR number.
    problems = models.JSONField(_("problemer"), default=list)
    source_timestamp = models.CharField(_("kildens tidsstempel"), max_length=40, blank=True)
    received_at = models.DateTimeField(_("modtaget"), default=timezone.now)

    class Meta:
        ordering = ["-received_at", "pk"]
        verbose_name = _("afvist post")
        verbose_name_plural = _("afviste poster")
        indexes = [models.Index(fields=["feed", "code"], name="feed_rejection_code_idx")]

    def __str__(self) -> str:
        # Not the external id: a source system may have put a CPR number in it.
        return f"{self.kind} #{self.pk}: {self.code}"
