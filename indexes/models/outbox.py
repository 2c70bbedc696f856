"""The notification outbox: what changed for a citizen, written with the change itself.

Ingestion (``indexes.services.ingestion.engine``) writes one ``NotificationEvent``
per applied change a citizen may want to hear about, in the same transaction as
the record and its ``Change`` row, when ``OVERBLIK_NOTIFICATIONS_ENABLED`` is on;
a deadline reminder is written by the daily reminder job. The portal's dispatcher
(``overblik.notifications``) claims the rows, turns them into messages and deletes
them. An event names only the record (kind and id) and the topic: never a CPR
number, a title or any other detail; whose it is is read from the record when the
event is dispatched, and whether the citizen may see it when the message is sent.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NotificationTopic(models.TextChoices):
    """What a citizen can choose to be told about (issue 14)."""

    STATUS = "status", _("En sag skifter status")
    AWAITING = "awaiting", _("Kommunen venter på dig")
    DEADLINE = "deadline", _("En frist nærmer sig")
    DOCUMENT = "document", _("Et nyt dokument i en sag")
    PAYMENT = "payment", _("En udbetaling er foretaget eller ændret")


class NotificationEvent(models.Model):
    """One event waiting to be dispatched (deleted once it is)."""

    topic = models.CharField(_("emne"), max_length=10, choices=NotificationTopic.choices)
    record_type = models.CharField(_("posttype"), max_length=20)  # case, document, payment
    record_id = models.BigIntegerField(_("post-id"))
    created_at = models.DateTimeField(_("oprettet"), default=timezone.now)

    class Meta:
        verbose_name = _("notifikationshændelse")
        verbose_name_plural = _("notifikationshændelser")

    def __str__(self) -> str:
        return f"{self.topic} {self.record_type} {self.record_id}"
