"""The citizen's access log: every read of their data by anyone but themselves.

A row says *who* by role and organisation (``actor_type``, ``municipality``,
``source_system``) and *what* in words a citizen can read (``channel``,
``record_kind``, ``subject``); the citizen's page builds its sentence from them
("En medarbejder i Odense Kommune så din sag om … (liste over sager)",
``overblik.selectors.data_accesses_for_citizen``), in Danish or English. The
reader's user account (``user``) and the internal ``detail`` are for the
admin's audit only and are never shown to the citizen.
"""

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
        # A citizen acting for this one in Mit Overblik (issue 15).
        HOLDER = "holder", _("Fuldmagtshaver")
        PARENT = "parent", _("Forælder")

    class Channel(models.TextChoices):
        """Where the data was seen."""

        ADMIN_RECORD = "admin_record", _("Posten åbnet i administrationen")
        ADMIN_LIST = "admin_list", _("En liste i administrationen")
        PREVIEW = "preview", _("Vis som borger")
        QUALITY_REPORT = "quality_report", _("Datakvalitetsrapport")
        QUALITY_DOWNLOAD = "quality_download", _("Udtræk fra datakvalitetsrapporten")
        API_READBACK = "api_readback", _("Fagsystemets opslag i sine egne indberetninger")
        PORTAL = "portal", _("Mit Overblik, for borgeren")
        OTHER = "other", _("Andet")

    class RecordKind(models.TextChoices):
        """What kind of the citizen's records was seen."""

        CASE = "case", _("sag")
        DOCUMENT = "document", _("dokument")
        GRANT = "grant", _("bevilling")
        BENEFIT = "benefit", _("ydelse")
        PAYMENT = "payment", _("udbetaling")
        CHANGE = "change", _("ændring")
        ALL = "all", _("alt")

    citizen_cpr = models.CharField(_("borger (CPR)"), max_length=10, db_index=True)
    accessed_at = models.DateTimeField(_("tidspunkt"), default=timezone.now)
    # Who, as the citizen is told: a role and the organisation, never a person's name.
    actor_type = models.CharField(_("hvem"), max_length=20, choices=Actor.choices)
    municipality = models.ForeignKey(
        "indexes.Municipality", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source_system = models.ForeignKey(
        "indexes.SourceSystem", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What, as the citizen is told: where it was seen, which kind of record, about what
    # (the records' KLE areas; empty when that would say more than the citizen may see).
    channel = models.CharField(
        _("hvor"), max_length=20, choices=Channel.choices, default=Channel.OTHER
    )
    record_kind = models.CharField(_("hvad"), max_length=20, choices=RecordKind.choices, blank=True)
    subject = models.CharField(_("om"), max_length=255, blank=True)
    # A citizen acting for this one (issue 15): the reader's CPR number (their own record,
    # "Det har du set for andre"; never shown to this citizen), the name and relation this
    # citizen is told ("Din datter Sofie …"), and this citizen's name as the reader is told.
    actor_cpr = models.CharField(_("læser (CPR)"), max_length=10, blank=True, db_index=True)
    actor_name = models.CharField(_("læserens navn"), max_length=255, blank=True)
    actor_relation = models.CharField(_("læserens relation"), max_length=40, blank=True)
    citizen_name = models.CharField(_("borgerens navn"), max_length=255, blank=True)
    # For the admin's audit only (never shown to the citizen): the reader's account and
    # an internal note (case numbers, external ids).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    detail = models.CharField(_("intern note"), max_length=255, blank=True)

    class Meta:
        ordering = ["-accessed_at"]
        verbose_name = _("adgang til borgerdata")
        verbose_name_plural = _("adgange til borgerdata")
        indexes = [
            models.Index(fields=["citizen_cpr", "-accessed_at"], name="data_access_citizen_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_actor_type_display()}: {self.get_channel_display()}"
