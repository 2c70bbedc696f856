"""Municipalities, source systems and the credentials they authenticate with."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Municipality(models.Model):
    """One of Denmark's 98 municipalities, keyed by its official 3-digit code."""

    code = models.CharField(_("kommunekode"), max_length=3, primary_key=True)
    name = models.CharField(_("navn"), max_length=100, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("kommune")
        verbose_name_plural = _("kommuner")
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{3}$"), name="municipality_code_three_digits"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SourceSystem(models.Model):
    """A product (FASIT, SBSYS, …) installed at one municipality.

    It may write only records owned by its own municipality (SF1470: the
    sending IT system is the record's master).
    """

    class Product(models.TextChoices):
        FASIT = "FASIT", "FASIT"
        SBSYS = "SBSYS", "SBSYS"
        ACADRE = "Acadre", "Acadre"
        KMD_CARE = "KMD Care", "KMD Care"
        NEXUS = "Nexus", "Nexus"
        EN_PLAN = "Én Plan", "Én Plan"
        KMD_YDELSE = "KMD Ydelse", "KMD Ydelse"
        OTHER = "Andet", _("Andet")

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="source_systems",
        verbose_name=_("kommune"),
    )
    product = models.CharField(_("produkt"), max_length=40, choices=Product.choices)
    name = models.CharField(_("navn"), max_length=100)
    is_active = models.BooleanField(_("aktiv"), default=True)
    created_at = models.DateTimeField(_("oprettet"), default=timezone.now)

    class Meta:
        ordering = ["municipality", "name"]
        verbose_name = _("fagsystem")
        verbose_name_plural = _("fagsystemer")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "name"], name="source_system_name_unique_per_municipality"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.municipality_id})"


class ApiCredential(models.Model):
    """An API key of a source system: shown once, stored hashed, revocable.

    A system may hold several at once so keys can be rotated without downtime.
    The key is ``<key_id>.<secret>``; ``key_id`` is public and indexed, the
    secret is random and only its SHA-256 is kept.
    """

    source_system = models.ForeignKey(
        SourceSystem, on_delete=models.CASCADE, related_name="credentials"
    )
    label = models.CharField(_("betegnelse"), max_length=100, blank=True)
    key_id = models.CharField(_("nøgle-id"), max_length=32, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("oprettet"), default=timezone.now)
    last_used_at = models.DateTimeField(_("senest brugt"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("tilbagekaldt"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API-nøgle")
        verbose_name_plural = _("API-nøgler")

    def __str__(self) -> str:
        return f"{self.key_id} ({self.source_system})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
