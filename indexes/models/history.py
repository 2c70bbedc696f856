"""Change history of indexed records: who or what changed what, and when."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Change(models.Model):
    """One applied change to an indexed record (before → after of changed fields)."""

    class Action(models.TextChoices):
        CREATED = "created", _("Oprettet")
        UPDATED = "updated", _("Ændret")
        RETRACTED = "retracted", _("Tilbagekaldt")

    record_type = models.CharField(_("posttype"), max_length=20)  # case, document, grant, payment
    record_id = models.BigIntegerField(_("post-id"))
    action = models.CharField(_("handling"), max_length=10, choices=Action.choices)
    version = models.PositiveIntegerField(_("version"))
    source_system = models.ForeignKey(
        "indexes.SourceSystem", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source_timestamp = models.DateTimeField(_("kildens tidsstempel"), null=True, blank=True)
    received_at = models.DateTimeField(_("modtaget"))
    # {"field": [before, after], ...}; CPR values are stored as they are in the
    # record itself and masked wherever this is displayed.
    diff = models.JSONField(_("ændringer"), default=dict)

    class Meta:
        ordering = ["record_type", "record_id", "version"]
        verbose_name = _("ændring")
        verbose_name_plural = _("ændringer")
        indexes = [models.Index(fields=["record_type", "record_id"], name="change_record_idx")]

    def __str__(self) -> str:
        return f"{self.record_type} {self.record_id} v{self.version} {self.action}"
