"""Events back to the source systems (issue 18): a transactional outbox and webhooks.

An ``OutboxEvent`` is written in the same transaction as the change it tells of, so an
event exists exactly when its change does. Each active ``WebhookSubscription`` the event
concerns gets a ``WebhookDelivery`` in that transaction too; workers send them
(``indexes.services.webhooks``), at least once, in order per record, with backoff, and
park a delivery that keeps failing as dead (replayed from the admin).
"""

import secrets
import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    BATCH_COMPLETED = "batch.completed", _("Batch færdig")
    RECORD_REJECTED = "record.rejected", _("Post afvist")
    RECORD_APPLIED = "record.applied", _("Post skrevet i indekset")
    SHEET_CHANGED = "sheet.changed", _("Kommunens konfigurationsark ændret")
    KLE_CHANGED = "kle.changed", _("KLE ændret")


# Every type but record.applied, which a subscription asks for (one per written record).
DEFAULT_EVENT_TYPES = [t for t in EventType.values if t != EventType.RECORD_APPLIED]


def webhook_secret_new() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    import base64

    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookSubscription(models.Model):
    """Where a source system wants its events, and which."""

    source_system = models.ForeignKey(
        "indexes.SourceSystem",
        on_delete=models.CASCADE,
        related_name="webhook_subscriptions",
        verbose_name=_("fagsystem"),
    )
    url = models.URLField(_("adresse"), max_length=500)
    # Standard Webhooks' symmetric secret; the receiver verifies with it, so it is kept
    # (not hashed) and shown to operators only.
    secret = models.CharField(_("hemmelighed"), max_length=100, default=webhook_secret_new)
    event_types = models.JSONField(
        _("hændelsestyper"),
        default=list,
        blank=True,
        help_text=_(
            "Tom: alle undtagen record.applied. record.applied sendes kun, når den er valgt."
        ),
    )
    is_active = models.BooleanField(_("aktiv"), default=True)
    created_at = models.DateTimeField(_("oprettet"), default=timezone.now)
    # One dispatcher at a time per subscription (its order per record): a lease a
    # killed worker loses when it runs out.
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["source_system", "pk"]
        verbose_name = _("webhook-abonnement")
        verbose_name_plural = _("webhook-abonnementer")
        constraints = [
            models.CheckConstraint(
                condition=Q(url__regex=r"^https?://"), name="webhook_subscription_url_http"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_system} → {self.url}"

    def wants(self, event_type: str) -> bool:
        return event_type in (self.event_types or DEFAULT_EVENT_TYPES)


class OutboxEvent(models.Model):
    """One event, written with the change it tells of; its id is the cursor API's position."""

    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(_("hændelses-id"), default=uuid.uuid4, unique=True)
    type = models.CharField(_("type"), max_length=30, choices=EventType.choices)
    # Whose it is: a source system's (its records and batches), a municipality's (its
    # sheet: every system of the municipality) or everyone's (KLE: both empty).
    source_system = models.ForeignKey(
        "indexes.SourceSystem",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("fagsystem"),
    )
    municipality = models.ForeignKey(
        "indexes.Municipality",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("kommune"),
    )
    subject = models.CharField(_("emne"), max_length=200)
    # Deliveries with the same key are sent in event order (one record's events).
    ordering_key = models.CharField(max_length=250)
    time = models.DateTimeField(_("tidspunkt"), default=timezone.now)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["id"]
        verbose_name = _("udgående hændelse")
        verbose_name_plural = _("udgående hændelser")
        indexes = [
            models.Index(fields=["source_system", "id"], name="outbox_event_system_idx"),
            models.Index(fields=["municipality", "id"], name="outbox_event_municipality_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.type} {self.subject}"


class WebhookDelivery(models.Model):
    """One event to one subscription: pending until a 2xx, dead after the last try."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Venter")
        DELIVERED = "delivered", _("Leveret")
        DEAD = "dead", _("Opgivet")

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    ordering_key = models.CharField(max_length=250)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("forsøg"), default=0)
    next_attempt_at = models.DateTimeField(_("næste forsøg"), default=timezone.now)
    last_error = models.CharField(_("seneste fejl"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("leveret"), null=True, blank=True)
    died_at = models.DateTimeField(_("opgivet"), null=True, blank=True)

    class Meta:
        ordering = ["event_id"]
        verbose_name = _("webhook-levering")
        verbose_name_plural = _("webhook-leveringer")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event"], name="webhook_delivery_once_per_subscription"
            ),
        ]
        indexes = [
            models.Index(
                fields=["subscription", "ordering_key", "event"],
                name="webhook_delivery_pending_idx",
                condition=Q(status="pending"),
            ),
            models.Index(
                fields=["subscription", "died_at"],
                name="webhook_delivery_dead_idx",
                condition=Q(status="dead"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.subscription_id} ({self.status})"
