"""KL's Emnesystematik: the subject plan (emneplan) and the action facets.

Element names in comments refer to KLE-Emneplan-version-2-0.xsd,
KLE-REST-Emneplan-fuld.xsd and KLE-Handlingsfacetter-version-2-0.xsd.
Nothing here is ever deleted: KLE keeps expired and moved items.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Publication(models.Model):
    """One imported KLE file (UdgivelsesDato) and what the import did."""

    class Kind(models.TextChoices):
        SUBJECT_PLAN = "emneplan", _("Emneplan")
        ACTION_FACETS = "handlingsfacetter", _("Handlingsfacetter")

    class Format(models.TextChoices):
        VERSION_2_0 = "2.0", _("KLE XML 2.0")
        REST_FULL = "rest-fuld", _("KLE-online REST (fuld)")

    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    format = models.CharField(_("format"), max_length=20, choices=Format.choices)
    published_on = models.DateField(_("udgivelsesdato"))
    source = models.CharField(_("kilde"), max_length=500)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    imported_at = models.DateTimeField(_("importeret"), default=timezone.now)
    created_count = models.PositiveIntegerField(_("oprettet"), default=0)
    changed_count = models.PositiveIntegerField(_("ændret"), default=0)
    expired_count = models.PositiveIntegerField(_("udgået"), default=0)
    moved_count = models.PositiveIntegerField(_("flyttet"), default=0)
    unchanged_count = models.PositiveIntegerField(_("uændret"), default=0)

    class Meta:
        ordering = ["-imported_at"]
        verbose_name = _("udgivelse")
        verbose_name_plural = _("udgivelser")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.published_on:%Y-%m-%d}"


class KleItem(models.Model):
    """Fields every KLE item carries (…AdministrativInfo, vejledning, retskilder)."""

    title = models.CharField(_("titel"), max_length=500)
    # VejledningTekst, sanitised to a small allow-list of tags (p, ul, ol, li, b, i).
    guidance_html = models.TextField(_("vejledning"), blank=True)
    created_on = models.DateField(_("oprettet"), null=True, blank=True)
    # RettetDato may repeat; kept as ISO dates in document order.
    corrected_on = models.JSONField(_("rettet"), default=list, blank=True)
    expired_on = models.DateField(_("udgået"), null=True, blank=True)
    moved_on = models.DateField(_("flyttet"), null=True, blank=True)
    # BevaringJaevnfoerArkivloven: "B", "K", "tom", …
    retention_code = models.CharField(_("bevaring"), max_length=20, blank=True)
    # SletningJaevnfoerPersondataloven, e.g. P1800D.
    deletion_period = models.DurationField(_("sletningsfrist"), null=True, blank=True)
    # FilterTitel values (delplaner), e.g. "JobcenterDelplan".
    filters = models.JSONField(_("delplanfiltre"), default=list, blank=True)
    # RetskildeReference: [{"title", "paragraph", "accession_number"}].
    legal_references = models.JSONField(_("retskilder"), default=list, blank=True)
    uuid = models.UUIDField(_("UUID"), null=True, blank=True)
    first_publication = models.ForeignKey(
        Publication, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    last_publication = models.ForeignKey(
        Publication, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        abstract = True

    @property
    def is_active(self) -> bool:
        return self.expired_on is None and self.moved_on is None


class Subject(KleItem):
    """A node of the emneplan: hovedgruppe ``02``, gruppe ``02.00`` or emne ``02.00.10``."""

    class Level(models.TextChoices):
        MAIN_GROUP = "hovedgruppe", _("Hovedgruppe")
        GROUP = "gruppe", _("Gruppe")
        TOPIC = "emne", _("Emne")

    number = models.CharField(_("nummer"), max_length=8, unique=True)
    level = models.CharField(_("niveau"), max_length=12, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="children",
        null=True,
        blank=True,
        verbose_name=_("overordnet"),
    )
    successors = models.ManyToManyField(
        "self",
        through="Succession",
        symmetrical=False,
        related_name="predecessors",
        blank=True,
        verbose_name=_("afløst af"),
    )

    class Meta:
        ordering = ["number"]
        verbose_name = _("KLE-nummer")
        verbose_name_plural = _("KLE-numre")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(level="hovedgruppe", number__regex=r"^[0-9]{2}$")
                    | Q(level="gruppe", number__regex=r"^[0-9]{2}\.[0-9]{2}$")
                    | Q(level="emne", number__regex=r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}$")
                ),
                name="kle_subject_number_matches_level",
            ),
            models.CheckConstraint(
                condition=Q(level="hovedgruppe", parent__isnull=True)
                | (~Q(level="hovedgruppe") & Q(parent__isnull=False)),
                name="kle_subject_parent_matches_level",
            ),
        ]
        indexes = [models.Index(fields=["level", "number"])]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class Succession(models.Model):
    """AfloestAf: a moved subject and one of its successors (there may be several)."""

    predecessor = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="+")
    successor = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("afløser")
        verbose_name_plural = _("afløsere")
        constraints = [
            models.UniqueConstraint(
                fields=["predecessor", "successor"], name="kle_succession_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.predecessor.number} → {self.successor.number}"


class FacetCategory(KleItem):
    """HandlingsfacetKategori: A, P, S, Ø, G, K or I (``Ø`` is a literal letter)."""

    code = models.CharField(_("kode"), max_length=1, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("handlingsfacetkategori")
        verbose_name_plural = _("handlingsfacetkategorier")

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Facet(KleItem):
    """Handlingsfacet such as ``G01`` (Generelle sager) or ``K08``."""

    code = models.CharField(_("kode"), max_length=3, unique=True)
    category = models.ForeignKey(
        FacetCategory, on_delete=models.PROTECT, related_name="facets", verbose_name=_("kategori")
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("handlingsfacet")
        verbose_name_plural = _("handlingsfacetter")
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[APSØGKI][0-9]{2}$"), name="kle_facet_code_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Keyword(models.Model):
    """Stikord from the REST "fuld" format, optionally tied to a facet."""

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="keywords")
    text = models.CharField(_("stikord"), max_length=500)
    facet_code = models.CharField(_("handlingsfacet"), max_length=3, blank=True)
    uuid = models.UUIDField(_("UUID"), null=True, blank=True)

    class Meta:
        ordering = ["subject", "text"]
        verbose_name = _("stikord")
        verbose_name_plural = _("stikord")
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "text", "facet_code"], name="kle_keyword_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.text
