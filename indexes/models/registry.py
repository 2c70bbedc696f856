"""Municipalities, source systems and the credentials they authenticate with."""

from django.conf import settings
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
    # Seed 004's compliance test: a sandbox installation's records are kept apart — never
    # shown to a citizen (borgerblikket.selectors.visibility), never counted in the
    # roll-out or data quality — and judged by its conformance report.
    sandbox = models.BooleanField(
        _("sandkasse"),
        default=False,
        help_text=_(
            "Poster fra en sandkasse vises aldrig for borgere og tælles ikke med i "
            "udrulning og datakvalitet; de ses i overensstemmelsesrapporten."
        ),
    )
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
    """An API key: shown once, stored hashed, expiring, revocable, rotated with an overlap.

    The key is ``<key_id>.<secret>``; ``key_id`` is public and indexed, the secret is
    random (256 bits) and only its SHA-256 is kept (a slow hash adds nothing against a
    secret that cannot be guessed). A key acts for source systems (installations):

    - an **installation key** names one (``source_system``);
    - a **vendor key** names a product and covers several installations of it
      (``installations``), e.g. every municipality running one vendor's FASIT; a request
      names the installation it acts for in the ``Source-System`` header, and each
      record is still checked against that installation's municipality.

    A system may hold several keys at once; rotating a key issues its successor with the
    same scope and lets the old one work until ``expires_at`` (the overlap).
    """

    source_system = models.ForeignKey(
        SourceSystem,
        on_delete=models.CASCADE,
        related_name="credentials",
        null=True,
        blank=True,
        verbose_name=_("fagsystem"),
        help_text=_("En nøgle til én installation. Tom for en leverandørnøgle."),
    )
    product = models.CharField(
        _("produkt (leverandørnøgle)"),
        max_length=40,
        choices=SourceSystem.Product.choices,
        blank=True,
    )
    installations = models.ManyToManyField(
        SourceSystem,
        related_name="vendor_credentials",
        blank=True,
        verbose_name=_("installationer"),
        help_text=_("En leverandørnøgles installationer (alle af nøglens produkt)."),
    )
    label = models.CharField(_("betegnelse"), max_length=100, blank=True)
    key_id = models.CharField(_("nøgle-id"), max_length=32, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("oprettet"), default=timezone.now)
    expires_at = models.DateTimeField(_("udløber"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("senest brugt"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("tilbagekaldt"), null=True, blank=True)
    # The key issued when this one was rotated (this one then expires after the overlap).
    replaced_by = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replaces",
        verbose_name=_("afløst af"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API-nøgle")
        verbose_name_plural = _("API-nøgler")
        constraints = [
            # Exactly one scope: an installation, or a product (a vendor key).
            models.CheckConstraint(
                condition=(Q(source_system__isnull=False) & Q(product=""))
                | (Q(source_system__isnull=True) & ~Q(product="")),
                name="api_credential_one_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key_id} ({self.source_system or self.product})"

    @property
    def is_vendor_key(self) -> bool:
        return self.source_system_id is None

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )


class ApiCredentialEvent(models.Model):
    """The audit of a key: who issued, rotated, revoked or changed it, and when."""

    class Action(models.TextChoices):
        ISSUED = "issued", _("Udstedt")
        ROTATED = "rotated", _("Roteret")
        REVOKED = "revoked", _("Tilbagekaldt")

    credential = models.ForeignKey(
        ApiCredential, on_delete=models.CASCADE, related_name="events", verbose_name=_("nøgle")
    )
    action = models.CharField(_("handling"), max_length=10, choices=Action.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("bruger"),
    )
    # Who, kept when the user is deleted (the username; a command: "manage.py").
    actor = models.CharField(_("udført af"), max_length=150)
    at = models.DateTimeField(_("tidspunkt"), default=timezone.now)
    detail = models.CharField(_("detaljer"), max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("hændelse for API-nøgle")
        verbose_name_plural = _("hændelser for API-nøgler")

    def __str__(self) -> str:
        return f"{self.credential_id} {self.action} {self.at:%Y-%m-%d %H:%M}"
