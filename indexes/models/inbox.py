"""The PostgreSQL inbox: accepted deliveries, durable before the 202 is sent.

A bulk request's accepted records are written here in the request's own
transaction; Celery workers apply them. A periodic sweeper re-enqueues batches
that sat unprocessed, so nothing accepted is lost when Redis or a worker fails.
"""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class InboxBatch(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Venter")
        DONE = "done", _("Færdig")
        # Failed INDEXES_INBOX_MAX_TRIES times: left alone until an operator retries it
        # (admin action), so it never blocks the sweeper or the health report.
        PARKED = "parked", _("Parkeret")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source_system = models.ForeignKey(
        "indexes.SourceSystem", on_delete=models.PROTECT, related_name="inbox_batches"
    )
    received_at = models.DateTimeField(_("modtaget"), default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    record_count = models.PositiveIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Runs that began and did not finish (an error, a killed worker); a transient
    # database error does not count. At INDEXES_INBOX_MAX_TRIES the batch is parked.
    tries = models.PositiveIntegerField(_("forsøg uden at blive færdig"), default=0)
    last_error = models.TextField(_("seneste fejl"), blank=True)
    parked_at = models.DateTimeField(_("parkeret"), null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("indbakke-batch")
        verbose_name_plural = _("indbakke-batches")
        indexes = [
            models.Index(
                fields=["received_at"],
                name="inbox_batch_pending_idx",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=["parked_at"],
                name="inbox_batch_parked_idx",
                condition=models.Q(status="parked"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status}, {self.record_count})"


class InboxRecord(models.Model):
    class Outcome(models.TextChoices):
        PENDING = "pending", _("Venter")
        CREATED = "created", _("Oprettet")
        UPDATED = "updated", _("Ændret")
        UNCHANGED = "unchanged", _("Uændret")
        STALE = "stale", _("Forældet")
        RETRACTED = "retracted", _("Tilbagekaldt")
        REJECTED = "rejected", _("Afvist")

    batch = models.ForeignKey(InboxBatch, on_delete=models.CASCADE, related_name="records")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=20)
    external_id = models.CharField(max_length=100)
    payload = models.JSONField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    problems = models.JSONField(default=list, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch", "position"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "position"], name="inbox_record_position"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id} ({self.outcome})"


class IdempotencyKey(models.Model):
    """A stored answer to a request sent with ``Idempotency-Key``."""

    source_system = models.ForeignKey(
        "indexes.SourceSystem", on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_headers = models.JSONField(default=dict)
    response_body = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "key"], name="idempotency_key_unique_per_system"
            ),
        ]

    def __str__(self) -> str:
        return self.key
