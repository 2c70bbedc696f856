"""What every indexed record carries: its source, both clocks and a version."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sensitivity(models.TextChoices):
    """SF1470/YI ``Foelsomhed``, in increasing order."""

    NOT_CONFIDENTIAL = "IKKE_FORTROLIGE_DATA", _("Ikke fortrolige data")
    CONFIDENTIAL = "FORTROLIGE_PERSONOPLYSNINGER", _("Fortrolige personoplysninger")
    SENSITIVE = "FOELSOMME_PERSONOPLYSNINGER", _("Følsomme personoplysninger")
    VIP = "VIP_SAGER", _("VIP-sager")


class IndexedRecord(models.Model):
    """A record a source system owns, identified by its own external id.

    ``source_timestamp`` is the source system's registration time and orders
    updates (an older one never overwrites a newer one); ``received_at`` is the
    index's receipt time (SF1470 "Registreringstidspunkt" vs.
    "StsRegistreringstidspunkt"). ``version`` grows with every applied change
    and is the record's ETag. A retracted record stays as a tombstone so a late,
    older update cannot bring it back.
    """

    source_system = models.ForeignKey(
        "indexes.SourceSystem", on_delete=models.PROTECT, related_name="+"
    )
    municipality = models.ForeignKey(
        "indexes.Municipality", on_delete=models.PROTECT, related_name="+"
    )
    external_id = models.CharField(_("eksternt id"), max_length=100)
    source_timestamp = models.DateTimeField(_("kildens tidsstempel"))
    received_at = models.DateTimeField(_("modtaget"))
    version = models.PositiveIntegerField(_("version"), default=1)
    retracted_at = models.DateTimeField(_("tilbagekaldt"), null=True, blank=True)

    class Meta:
        abstract = True
