"""The citizen's access log: every read of their data by anyone but themselves."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DataAccess(models.Model):
    """One read of a citizen's data by an admin, a source system, support or an operator."""

    class Actor(models.TextChoices):
        MUNICIPAL_ADMIN = "municipal_admin", _("Kommunal administrator")
        SOURCE_SYSTEM = "source_system", _("Fagsystem")
        SUPPORT = "support", _("Support")
        OPERATOR = "operator", _("Driftsoperatør")

    citizen_cpr = models.CharField(_("borger (CPR)"), max_length=10, db_index=True)
    accessed_at = models.DateTimeField(_("tidspunkt"), default=timezone.now)
    actor_type = models.CharField(_("hvem"), max_length=20, choices=Actor.choices)
    # What the citizen is shown as "who": e.g. "Odense Kommune, administrator jens".
    actor_label = models.CharField(_("aktør"), max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source_system = models.ForeignKey(
        "indexes.SourceSystem", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    municipality = models.ForeignKey(
        "indexes.Municipality", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    purpose = models.CharField(_("formål"), max_length=255)
    detail = models.CharField(_("hvad"), max_length=255, blank=True)

    class Meta:
        ordering = ["-accessed_at"]
        verbose_name = _("adgang til borgerdata")
        verbose_name_plural = _("adgange til borgerdata")
        indexes = [
            models.Index(fields=["citizen_cpr", "-accessed_at"], name="data_access_citizen_idx")
        ]

    def __str__(self) -> str:
        return f"{self.actor_label}: {self.purpose}"
