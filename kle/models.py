"""KL's Emnesystematik: the subject plan (emneplan) and the action facets.

Element names in comments refer to KLE-Emneplan-version-2-0.xsd,
KLE-REST-Emneplan-fuld.xsd and KLE-Handlingsfacetter-version-2-0.xsd.
Nothing here is ever deleted: KLE keeps expired and moved items, and the
importer (kle.services.importer) only creates and updates.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Publication(models.Model):
    """One imported KLE file (UdgivelsesDato) and what the import did to the taxonomy."""

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
    item_count = models.PositiveIntegerField(_("elementer i filen"), default=0)
    created_count = models.PositiveIntegerField(_("oprettet"), default=0)
    changed_count = models.PositiveIntegerField(_("ændret"), default=0)
    expired_count = models.PositiveIntegerField(_("udgået"), default=0)
    moved_count = models.PositiveIntegerField(_("flyttet"), default=0)
    unchanged_count = models.PositiveIntegerField(_("uændret"), default=0)
    # Items already in the database that this file does not mention (an excerpt):
    # they are left as they are, never deleted.
    absent_count = models.PositiveIntegerField(_("ikke i filen"), default=0)
    # E.g. an AfloestAf naming a number that KLE does not contain.
    warnings = models.JSONField(_("advarsler"), default=list, blank=True)
    # The KLE numbers this file expired (UdgaaetDato newly set) and moved (Flyttet newly
    # set), in file order: what a release's impact on the sheets is computed from
    # (borgerblikket.services.kle_releases). Empty for facets and for a first import.
    expired_numbers = models.JSONField(_("udgåede numre"), default=list, blank=True)
    moved_numbers = models.JSONField(_("flyttede numre"), default=list, blank=True)

    class Meta:
        ordering = ["-imported_at", "-id"]
        verbose_name = _("udgivelse")
        verbose_name_plural = _("udgivelser")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["emneplan", "handlingsfacetter"]),
                name="kle_publication_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(format__in=["2.0", "rest-fuld"]), name="kle_publication_format_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.published_on:%Y-%m-%d}"

    @property
    def change_count(self) -> int:
        return self.created_count + self.changed_count + self.expired_count + self.moved_count


class RetentionCode(models.TextChoices):
    """BevaringJaevnfoerArkivloven (pattern K|K5|K10|B|tom)."""

    PRESERVE = "B", _("Bevares")
    DISCARD = "K", _("Kasseres")
    DISCARD_5 = "K5", _("Kasseres efter 5 år")
    DISCARD_10 = "K10", _("Kasseres efter 10 år")
    NONE = "tom", _("Ingen bevaringskode (udgået før 2007)")


class KleItem(models.Model):
    """Fields every KLE item carries (…Titel, …Vejledning, …AdministrativInfo, …)."""

    title = models.CharField(_("titel"), max_length=500)
    # VejledningTekst, sanitised to the allow-list p, ul, ol, li, b, i.
    guidance_html = models.TextField(_("vejledning"), blank=True)
    created_on = models.DateField(_("oprettet"), null=True, blank=True)  # OprettetDato
    # RettetDato may repeat; ISO dates in document order.
    corrected_on = models.JSONField(_("rettet"), default=list, blank=True)
    expired_on = models.DateField(_("udgået"), null=True, blank=True)  # Historisk/UdgaaetDato
    moved_on = models.DateField(
        _("flyttet"), null=True, blank=True
    )  # Historisk/Flyttet/FlyttetDato
    # Historisk/Flyttet/AfloestAf/*Nr as delivered, in order. Kept as text because
    # KLE itself names successors it does not contain (2015-08-01: 16.00.15 → 29.00.09).
    successor_numbers = models.JSONField(_("afløst af (numre)"), default=list, blank=True)
    retention_code = models.CharField(
        _("bevaring"), max_length=3, choices=RetentionCode.choices, blank=True
    )
    # SletningJaevnfoerPersondataloven (xs:duration in days, e.g. P1800D).
    deletion_period = models.DurationField(_("sletningsfrist"), null=True, blank=True)
    # FilterTitel values (delplaner), e.g. "JobcenterDelplan".
    filters = models.JSONField(_("delplanfiltre"), default=list, blank=True)
    # RetskildeReference: [{"title", "paragraph", "accession_number"}].
    legal_references = models.JSONField(_("retskilder"), default=list, blank=True)
    uuid = models.UUIDField(_("UUID"), null=True, blank=True)  # REST "fuld" format only
    created_in = models.ForeignKey(
        Publication,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("oprettet ved import"),
    )
    changed_in = models.ForeignKey(
        Publication,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("senest ændret ved import"),
    )

    class Meta:
        abstract = True

    @property
    def is_active(self) -> bool:
        """Neither expired nor moved (Historisk is absent)."""
        return self.expired_on is None and self.moved_on is None


# Historisk is a choice between UdgaaetDato and Flyttet: never both.
_EXPIRED_XOR_MOVED = Q(expired_on__isnull=True) | Q(moved_on__isnull=True)


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
            models.CheckConstraint(
                condition=_EXPIRED_XOR_MOVED, name="kle_subject_expired_xor_moved"
            ),
        ]
        indexes = [models.Index(fields=["level", "number"])]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class Succession(models.Model):
    """AfloestAf: a moved subject and one of its successors (there may be several)."""

    predecessor = models.ForeignKey(
        Subject, on_delete=models.CASCADE, related_name="+", verbose_name=_("flyttet nummer")
    )
    successor = models.ForeignKey(
        Subject, on_delete=models.PROTECT, related_name="+", verbose_name=_("afløser")
    )

    class Meta:
        ordering = ["predecessor__number", "successor__number"]
        verbose_name = _("afløser")
        verbose_name_plural = _("afløsere")
        constraints = [
            models.UniqueConstraint(
                fields=["predecessor", "successor"], name="kle_succession_unique"
            ),
            models.CheckConstraint(
                condition=~Q(predecessor=models.F("successor")), name="kle_succession_not_self"
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
        constraints = [
            models.CheckConstraint(
                condition=Q(code__in=["A", "P", "S", "Ø", "G", "K", "I"]),
                name="kle_facet_category_code_valid",
            ),
            models.CheckConstraint(
                condition=_EXPIRED_XOR_MOVED, name="kle_facet_category_expired_xor_moved"
            ),
        ]

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
            models.CheckConstraint(
                condition=_EXPIRED_XOR_MOVED, name="kle_facet_expired_xor_moved"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Keyword(models.Model):
    """Stikord from the REST "fuld" format (…Stikord/Tekst), optionally tied to a facet.

    EmneOgHandlingsfacetStikord carries a HandlingsfacetNr; it is kept as the code
    (not a foreign key) because the emneplan may be imported before the facets.
    """

    subject = models.ForeignKey(
        Subject, on_delete=models.CASCADE, related_name="keywords", verbose_name=_("KLE-nummer")
    )
    text = models.CharField(_("stikord"), max_length=500)
    order = models.CharField(_("orden"), max_length=20, blank=True)  # Orden (xs:string)
    facet_code = models.CharField(_("handlingsfacet"), max_length=3, blank=True)

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
        return f"{self.text} ({self.facet_code})" if self.facet_code else self.text


class SyncSource(models.Model):
    """A place the scheduled KLE sync reads (a KLE-online URL or a file) and what it said last.

    The HTTP validators (``ETag``, ``Last-Modified``) are sent back as ``If-None-Match``
    and ``If-Modified-Since`` (RFC 9110 §13.1), so an unchanged plan costs a 304 and
    no download. They are stored only after a response was handled completely.
    """

    class Outcome(models.TextChoices):
        IMPORTED = "imported", _("Importeret")
        UNCHANGED = "unchanged", _("Uændret")
        NOT_MODIFIED = "not_modified", _("Ikke ændret (304)")
        SKIPPED = "skipped", _("Sprunget over")
        FAILED = "failed", _("Fejlede")

    source = models.CharField(_("kilde"), max_length=500, unique=True)
    kind = models.CharField(_("type"), max_length=20, choices=Publication.Kind.choices)
    etag = models.CharField(_("ETag"), max_length=500, blank=True)
    last_modified = models.CharField(_("Last-Modified"), max_length=100, blank=True)
    checked_at = models.DateTimeField(_("senest kontrolleret"), null=True, blank=True)
    outcome = models.CharField(_("udfald"), max_length=20, choices=Outcome.choices, blank=True)
    message = models.TextField(_("besked"), blank=True)
    publication = models.ForeignKey(
        Publication,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("senest importeret"),
    )

    class Meta:
        ordering = ["kind", "source"]
        verbose_name = _("KLE-synkroniseringskilde")
        verbose_name_plural = _("KLE-synkroniseringskilder")

    def __str__(self) -> str:
        return self.source
