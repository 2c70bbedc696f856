"""Borgerblikket: the municipalities' exposure sheets and who may edit them.

A municipality's configuration sheet (konfigurationsark) is its ``Sheet``
(the per-municipality switches) and its ``SheetRow``s (one per exposed KLE
emne, the sheet's columns). Every change to either is kept in ``SheetChange``.
"""

import re
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from borgerblikket.citizen_safe import CitizenSafeQuerySet
from indexes.models import Case, GrantedBenefit, Payment, SourceSystem


class Membership(models.Model):
    """A user's role in one municipality: which of its pages they may see and change.

    The role names one of the groups ``borgerblikket.services.roles`` keeps (Django groups
    and permissions, docs/roles.md); an area admin's rows are further limited to ``areas``.
    """

    class Role(models.TextChoices):
        LEAD = "lead", _("Kommunal hovedadministrator")
        ADMIN = "admin", _("Kommunal administrator")
        AREA = "area", _("Områdeadministrator")
        MANAGER = "manager", _("Leder (kun læseadgang)")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="borgerblikket_memberships",
        verbose_name=_("bruger"),
    )
    municipality = models.ForeignKey(
        "indexes.Municipality",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("kommune"),
    )
    role = models.CharField(_("rolle"), max_length=10, choices=Role.choices, default=Role.ADMIN)
    # An area admin's KLE main groups and groups ("32", "32.24"): the sheet rows they work on.
    areas = models.ManyToManyField(
        "kle.Subject",
        blank=True,
        related_name="+",
        verbose_name=_("områder (KLE-hovedgrupper og -grupper)"),
        limit_choices_to={"level__in": ["hovedgruppe", "gruppe"]},
    )
    created_at = models.DateTimeField(_("oprettet"), default=timezone.now)

    class Meta:
        ordering = ["municipality", "user"]
        verbose_name = _("medlemskab af kommune")
        verbose_name_plural = _("medlemskaber af kommuner")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "municipality"], name="borgerblikket_membership_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} - {self.municipality}"


class TitleSource(models.TextChoices):
    """Which title a citizen sees for a case."""

    KLE = "kle", _("KLE-navnet fra arket")
    CASE = "case", _("Sagens egen titel")


class AssuranceLevel(models.IntegerChoices):
    """NSIS assurance levels, lowest first (the rank the visibility rule compares)."""

    LOW = 0, _("Lav")
    SUBSTANTIAL = 1, _("Betydelig")
    HIGH = 2, _("Høj")


class Sheet(models.Model):
    """A municipality's switches of its configuration sheet (one per municipality).

    A municipality without a ``Sheet`` row has every switch off (deny by default).
    """

    municipality = models.OneToOneField(
        "indexes.Municipality",
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="borgerblikket_sheet",
        verbose_name=_("kommune"),
    )
    show_document_titles = models.BooleanField(_("vis dokumenttitler"), default=False)
    # Seed 001/003: "vis aktive sager (og deres ydelser) oprettet før fradato".
    show_active_cases_before_show_from = models.BooleanField(
        _("vis aktive sager oprettet før fradato"), default=False
    )
    # Seed 002 (Fredensborg): "Vi udstiller KLE-nr. overskriften på Mit Overblik";
    # the default is the KLE name because case titles may be a CPR number.
    title_source = models.CharField(
        _("titel vist for borgeren"),
        max_length=4,
        choices=TitleSource.choices,
        default=TitleSource.KLE,
    )
    # Data quality: a case with no new document or status change for this long is idle.
    idle_days = models.PositiveIntegerField(_("liggetid (dage)"), default=90)
    # Retention (borgerblikket.services.retention): a closed case leaves the index this many
    # days after closing when that is shorter than its KLE emne's deletion period
    # (SletningJaevnfoerPersondataloven). Empty: KLE's period alone.
    retention_days = models.PositiveIntegerField(
        _("slettefrist (dage)"),
        null=True,
        blank=True,
        default=None,  # a revert to "no setting" (sheet_change_revert) reads the default
        validators=[MinValueValidator(1)],
        help_text=_(
            "Afsluttede sager, deres dokumenter og ydelser slettes fra indekset så mange dage "
            "efter afslutningen, hvis det er kortere end KLE-emnets sletningsfrist. "
            "Tom: KLE's sletningsfrist."
        ),
    )
    # Sensitive titles (issue 15): the NSIS assurance level a citizen's own login needs to
    # see the titles of their cases and benefits with sensitivity "Følsomme
    # personoplysninger" or higher (borgerblikket.selectors.visibility). Empty: the national
    # default, OVERBLIK_SENSITIVE_TITLES_LOA.
    sensitive_titles_assurance = models.PositiveSmallIntegerField(
        _("sikringsniveau for følsomme titler"),
        choices=AssuranceLevel.choices,
        null=True,
        blank=True,
        default=None,
        help_text=_(
            "Det NSIS-sikringsniveau, borgerens MitID-login skal have, for at borgeren selv "
            "ser titlerne på sager og ydelser med følsomme personoplysninger. Tom: det "
            "nationale standardniveau."
        ),
    )
    updated_at = models.DateTimeField(_("ændret"), default=timezone.now)

    class Meta:
        ordering = ["municipality"]
        verbose_name = _("konfigurationsark")
        verbose_name_plural = _("konfigurationsark")
        # The municipality's own admin pages (docs/roles.md).
        permissions = [
            ("view_quality", _("Kan se datakvalitet (optællinger)")),
            ("view_quality_records", _("Kan se sagerne bag datakvaliteten")),
            ("preview_citizen", _("Kan se som borger")),
            ("view_rollout", _("Kan se udrulning")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(idle_days__gte=1), name="sheet_idle_days_positive"),
            models.CheckConstraint(
                condition=Q(retention_days__isnull=True) | Q(retention_days__gte=1),
                name="sheet_retention_days_positive",
            ),
        ]

    def __str__(self) -> str:
        return str(self.municipality)


class ProcessingTimeUnit(models.TextChoices):
    """The unit of a published processing time ("8 uger", "30 dage")."""

    DAYS = "days", _("dage")
    WEEKS = "weeks", _("uger")


# Bounds of a published processing time: about two years either way (a longer one is a
# typing error, and a date that far ahead tells the citizen nothing).
PROCESSING_TIME_MAX = {ProcessingTimeUnit.DAYS: 730, ProcessingTimeUnit.WEEKS: 104}


class SheetRow(models.Model):
    """One row of the sheet: a KLE emne the municipality exposes, with its contact details."""

    municipality = models.ForeignKey(
        "indexes.Municipality",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("kommune"),
    )
    kle_subject = models.ForeignKey(  # KLE-nr.
        "kle.Subject", on_delete=models.PROTECT, related_name="+", verbose_name=_("KLE-nr.")
    )
    # KLE-navn: what the citizen sees; empty means KLE's own title.
    display_name = models.CharField(_("KLE-navn"), max_length=255, blank=True)
    # Fagsystem: when set, only records sent by this system are shown (rule 3).
    source_system = models.ForeignKey(
        "indexes.SourceSystem",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("fagsystem"),
    )
    show_from = models.DateField(_("fradato for visning"))
    contact_department = models.CharField(_("kontaktafdeling"), max_length=255, blank=True)
    contact_phone = models.CharField(_("kontakttelefon"), max_length=8, blank=True)
    info_url = models.URLField(_("link til yderligere information"), max_length=500, blank=True)
    digital_post_url = models.URLField(
        _("Digital Post-kontaktpunkt (postkasse)"), max_length=500, blank=True
    )
    self_service_name = models.CharField(_("selvbetjeningsnavn"), max_length=255, blank=True)
    self_service_url = models.URLField(_("selvbetjeningslink"), max_length=500, blank=True)
    # Sagsbehandlingsfrist (retssikkerhedsloven § 3, stk. 2): the processing time the
    # municipality publishes for decisions in this area, a number of days or weeks, or
    # none. The case page reckons "Forventet afgørelse senest …" from it
    # (borgerblikket.selectors.case_expected_decision).
    processing_time = models.PositiveSmallIntegerField(
        _("sagsbehandlingsfrist"),
        null=True,
        blank=True,
        help_text=_("Kommunens offentliggjorte frist for en afgørelse, fx 8 (uger)."),
    )
    processing_time_unit = models.CharField(
        _("enhed for sagsbehandlingsfrist"),
        max_length=5,
        choices=ProcessingTimeUnit.choices,
        blank=True,
    )
    updated_at = models.DateTimeField(_("ændret"), default=timezone.now)

    class Meta:
        ordering = ["municipality", "kle_subject__number"]
        verbose_name = _("række i konfigurationsark")
        verbose_name_plural = _("rækker i konfigurationsark")
        permissions = [
            ("import_sheetrow", _("Kan importere konfigurationsark")),
            ("export_sheetrow", _("Kan eksportere konfigurationsark")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "kle_subject"], name="sheet_row_one_per_kle_subject"
            ),
            models.CheckConstraint(
                condition=Q(contact_phone="") | Q(contact_phone__regex=r"^[0-9]{8}$"),
                name="sheet_row_phone_eight_digits",
            ),
            models.CheckConstraint(
                condition=(
                    (Q(info_url="") | Q(info_url__regex=r"^https?://"))
                    & (Q(digital_post_url="") | Q(digital_post_url__regex=r"^https?://"))
                    & (Q(self_service_url="") | Q(self_service_url__regex=r"^https?://"))
                ),
                name="sheet_row_links_http",
            ),
            models.CheckConstraint(
                # Each branch is TRUE or FALSE, never NULL (a CHECK lets NULL through).
                condition=(Q(processing_time__isnull=True) & Q(processing_time_unit=""))
                | (
                    Q(processing_time__isnull=False)
                    & Q(processing_time_unit=ProcessingTimeUnit.DAYS)
                    & Q(processing_time__gte=1)
                    & Q(processing_time__lte=PROCESSING_TIME_MAX[ProcessingTimeUnit.DAYS])
                )
                | (
                    Q(processing_time__isnull=False)
                    & Q(processing_time_unit=ProcessingTimeUnit.WEEKS)
                    & Q(processing_time__gte=1)
                    & Q(processing_time__lte=PROCESSING_TIME_MAX[ProcessingTimeUnit.WEEKS])
                ),
                name="sheet_row_processing_time_number_and_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.municipality_id} {self.kle_subject}"

    def clean(self):
        """A processing time is a number and a unit together, within its bounds."""
        super().clean()
        value, unit = self.processing_time, self.processing_time_unit
        if value is None and unit:
            raise ValidationError(
                {"processing_time": _("Angiv fristen som et antal dage eller uger.")}
            )
        if value is not None and not unit:
            raise ValidationError(
                {"processing_time_unit": _("Angiv, om fristen er i dage eller uger.")}
            )
        if value is not None and unit in PROCESSING_TIME_MAX:
            most = PROCESSING_TIME_MAX[unit]
            if not 1 <= value <= most:
                raise ValidationError(
                    {
                        "processing_time": _("Fristen skal være mellem 1 og %(most)d %(unit)s.")
                        % {"most": most, "unit": ProcessingTimeUnit(unit).label}
                    }
                )


class SheetChange(models.Model):
    """One change to a sheet (a row or the switches): who, when, before → after."""

    class Target(models.TextChoices):
        ROW = "row", _("Række")
        SETTINGS = "settings", _("Indstillinger")

    class Action(models.TextChoices):
        CREATED = "created", _("Oprettet")
        UPDATED = "updated", _("Ændret")
        DELETED = "deleted", _("Slettet")

    class Via(models.TextChoices):
        ADMIN = "admin", _("Administration")
        IMPORT = "import", _("Import")
        REVERT = "revert", _("Fortrydelse")
        # A row moved to its KLE successor(s) from a release's impact report.
        KLE_MOVE = "kle_move", _("KLE-flytning")

    municipality = models.ForeignKey(
        "indexes.Municipality",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("kommune"),
    )
    target = models.CharField(_("hvad"), max_length=10, choices=Target.choices)
    kle_number = models.CharField(_("KLE-nr."), max_length=8, blank=True)
    action = models.CharField(_("handling"), max_length=10, choices=Action.choices)
    via = models.CharField(_("via"), max_length=10, choices=Via.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("bruger"),
    )
    changed_at = models.DateTimeField(_("tidspunkt"), default=timezone.now)
    before = models.JSONField(_("før"), null=True, blank=True)
    after = models.JSONField(_("efter"), null=True, blank=True)
    reverts = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reverted_by",
        verbose_name=_("fortryder"),
    )

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("ændring af konfigurationsark")
        verbose_name_plural = _("ændringer af konfigurationsark")
        permissions = [("revert_sheetchange", _("Kan fortryde ændringer af konfigurationsark"))]
        indexes = [models.Index(fields=["municipality", "-changed_at"], name="sheet_change_recent")]

    def __str__(self) -> str:
        what = self.kle_number or self.get_target_display()
        return f"{self.municipality_id} {what} {self.get_action_display()}"


class SheetImport(models.Model):
    """An uploaded sheet waiting for its preview to be confirmed (nothing applied before)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    municipality = models.ForeignKey(
        "indexes.Municipality",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("kommune"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("bruger"),
    )
    file_name = models.CharField(_("filnavn"), max_length=255)
    file_format = models.CharField(_("format"), max_length=4)
    content = models.BinaryField(_("indhold"))
    created_at = models.DateTimeField(_("uploadet"), default=timezone.now)
    applied_at = models.DateTimeField(_("gennemført"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import af konfigurationsark")
        verbose_name_plural = _("importer af konfigurationsark")

    def __str__(self) -> str:
        return f"{self.municipality_id} {self.file_name}"


class MandatoryKleNumber(models.Model):
    """A KLE emne every municipality must expose (ØA 2020), as an operator keeps it.

    KOMBIT publishes the mandatory areas, not their KLE numbers, so the list is data.
    It is a number, not a link to ``kle.Subject``: it may name a number that a later
    KLE publication brings (and the default is seeded before KLE is imported).
    """

    kle_number = models.CharField(_("KLE-nr."), max_length=8, unique=True)
    area = models.CharField(_("område"), max_length=100)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["kle_number"]
        verbose_name = _("obligatorisk KLE-nummer")
        verbose_name_plural = _("obligatoriske KLE-numre")
        constraints = [
            models.CheckConstraint(
                condition=Q(kle_number__regex=r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}$"),
                name="mandatory_kle_number_is_topic",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kle_number} ({self.area})"


class TitleAbbreviation(models.Model):
    """An abbreviation titles must not use (seed 002: "Forkortelser i overskriften")."""

    text = models.CharField(_("forkortelse"), max_length=20, unique=True)

    class Meta:
        ordering = ["text"]
        verbose_name = _("forkortelse i titler")
        verbose_name_plural = _("forkortelser i titler")

    def __str__(self) -> str:
        return self.text


class TitleLeadWord(models.Model):
    """A word a good title starts with, e.g. "Afslag" (seed 002: titles say what the case
    or letter is — "Afslag på …", "Bevilling af …" — not just the area)."""

    text = models.CharField(_("indledende ord"), max_length=40, unique=True)

    class Meta:
        ordering = ["text"]
        verbose_name = _("indledende ord i titler")
        verbose_name_plural = _("indledende ord i titler")

    def __str__(self) -> str:
        return self.text


class KleRelease(models.Model):
    """A KLE emneplan publication as Borgerblikket met it: its impact on every sheet is built.

    One per publication (``kle.Publication``); the impact is built once, after the
    import (``borgerblikket.services.kle_releases``), also for a publication
    ``import_kle`` brought in by hand (the next scheduled sync catches up).
    """

    publication = models.OneToOneField(
        "kle.Publication",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("KLE-udgivelse"),
    )
    built_at = models.DateTimeField(_("konsekvenser opgjort"), default=timezone.now)
    expired_count = models.PositiveIntegerField(_("udgåede numre"), default=0)
    moved_count = models.PositiveIntegerField(_("flyttede numre"), default=0)
    row_count = models.PositiveIntegerField(_("berørte rækker"), default=0)

    class Meta:
        ordering = ["-publication__published_on", "-built_at"]
        verbose_name = _("KLE-udgivelse")
        verbose_name_plural = _("KLE-udgivelser")

    def __str__(self) -> str:
        return f"KLE {self.publication.published_on:%d-%m-%Y}"


class KleImpactReport(models.Model):
    """What one KLE release does to one municipality's sheet: its rows on numbers that
    expired or moved (``items``), with the successors proposed."""

    release = models.ForeignKey(
        KleRelease, on_delete=models.CASCADE, related_name="reports", verbose_name=_("udgivelse")
    )
    municipality = models.ForeignKey(
        "indexes.Municipality",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("kommune"),
    )
    created_at = models.DateTimeField(_("oprettet"), default=timezone.now)

    class Meta:
        ordering = ["-release__publication__published_on", "municipality"]
        verbose_name = _("KLE-konsekvensrapport")
        verbose_name_plural = _("KLE-konsekvensrapporter")
        permissions = [("move_kleimpactreport", _("Kan flytte rækker til afløsere"))]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "municipality"], name="kle_impact_report_one_per_release"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.release} - {self.municipality}"


class KleImpactItem(models.Model):
    """One sheet row on a KLE number a release expired or moved, and what became of it."""

    class Change(models.TextChoices):
        EXPIRED = "expired", _("Udgået")
        MOVED = "moved", _("Flyttet")

    class Resolution(models.TextChoices):
        MOVED = "moved", _("Flyttet til afløser")

    report = models.ForeignKey(
        KleImpactReport, on_delete=models.CASCADE, related_name="items", verbose_name=_("rapport")
    )
    # The row as it was; SET_NULL: a row removed (by the move or by hand) leaves the item.
    sheet_row = models.ForeignKey(
        SheetRow,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("række"),
    )
    kle_number = models.CharField(_("KLE-nr."), max_length=8)
    kle_title = models.CharField(_("KLE-titel"), max_length=500)
    change = models.CharField(_("ændring"), max_length=10, choices=Change.choices)
    changed_on = models.DateField(_("dato i KLE"), null=True, blank=True)
    # Historisk/Flyttet/AfloestAf as KLE names them (text: KLE names numbers it lacks).
    successor_numbers = models.JSONField(_("afløst af (KLE)"), default=list, blank=True)
    # The active emner a row can move to: the successors, followed through later moves.
    proposed_numbers = models.JSONField(_("foreslåede afløsere"), default=list, blank=True)
    # The municipality's indexed cases on the number when the report was built.
    case_count = models.PositiveIntegerField(_("sager på nummeret"), default=0)
    resolution = models.CharField(
        _("håndtering"), max_length=10, choices=Resolution.choices, blank=True
    )
    resolved_at = models.DateTimeField(_("håndteret"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("håndteret af"),
    )

    class Meta:
        ordering = ["report", "kle_number"]
        verbose_name = _("berørt række")
        verbose_name_plural = _("berørte rækker")
        constraints = [
            models.UniqueConstraint(
                fields=["report", "kle_number"], name="kle_impact_item_one_per_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kle_number} {self.get_change_display()}"

    @property
    def is_open(self) -> bool:
        """The row is still on the sheet and nobody has handled it."""
        return not self.resolution and self.sheet_row_id is not None


class _CitizenSafe:
    """Instances carry only the columns a selector loaded; reading another one raises.
    Their text has every CPR-shaped number masked (``CitizenSafeQuerySet``)."""

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        raise AttributeError(
            f"{type(self).__name__} carries only citizen-safe fields; "
            f"{sorted(fields or [])} are not loaded (see borgerblikket.selectors)."
        )


def _closed(self):
    raise AttributeError("Use borgerblikket.selectors for what a citizen may see.")


class CitizenCase(_CitizenSafe, Case):
    """A case as a citizen may see it: the visibility selectors return these.

    The selectors load only citizen-safe columns; reading any other field (the
    caseworker, the alternative title, …) raises instead of quietly loading it,
    and the relations that lead past the rules are closed.
    """

    objects = CitizenSafeQuerySet.as_manager()

    class Meta:
        proxy = True
        verbose_name = _("sag set af borgeren")
        verbose_name_plural = _("sager set af borgeren")

    documents = property(_closed)
    document_links = property(_closed)
    grants = property(_closed)
    benefits = property(_closed)


class CitizenBenefit(_CitizenSafe, GrantedBenefit):
    """A granted benefit as a citizen may see it (see ``CitizenCase``)."""

    objects = CitizenSafeQuerySet.as_manager()

    class Meta:
        proxy = True
        verbose_name = _("ydelse set af borgeren")
        verbose_name_plural = _("ydelser set af borgeren")

    payments = property(_closed)


class CitizenPayment(_CitizenSafe, Payment):
    """A payment as a citizen may see it (see ``CitizenCase``)."""

    objects = CitizenSafeQuerySet.as_manager()

    class Meta:
        proxy = True
        verbose_name = _("udbetaling set af borgeren")
        verbose_name_plural = _("udbetalinger set af borgeren")


class RetentionRun(models.Model):
    """One run of the retention job: when, what started it, and what it deleted (counts only).

    The audit of deletions never holds contents or ids that identify a citizen: the
    counts per municipality and kind are ``RetentionCount`` rows.
    """

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Daglig kørsel")
        COMMAND = "command", _("Kommando")

    class Status(models.TextChoices):
        RUNNING = "running", _("Kører")
        FINISHED = "finished", _("Gennemført")
        FAILED = "failed", _("Fejlede")

    started_at = models.DateTimeField(_("startet"), default=timezone.now)
    finished_at = models.DateTimeField(_("afsluttet"), null=True, blank=True)
    # The day (Europe/Copenhagen) the deletion periods were counted to.
    today = models.DateField(_("opgjort pr."))
    trigger = models.CharField(_("startet af"), max_length=10, choices=Trigger.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    batches = models.PositiveIntegerField(_("portioner"), default=0)
    access_log_cutoff = models.DateTimeField(_("adgangslog slettet før"), null=True, blank=True)
    # Delivery logs: inbox batches finished or parked, and feed rejections and polls, before.
    inbox_cutoff = models.DateTimeField(_("leveringsbatches slettet før"), null=True, blank=True)
    feed_log_cutoff = models.DateTimeField(_("feed-log slettet før"), null=True, blank=True)
    # The outboxes: events back to the source systems (cursor API, webhooks), before.
    events_cutoff = models.DateTimeField(_("udgående hændelser slettet før"), null=True, blank=True)
    # The exception's class name only: a message could quote a record.
    error = models.CharField(_("fejl"), max_length=200, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("sletning efter slettefrist")
        verbose_name_plural = _("sletninger efter slettefrist")

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"


class RetentionCount(models.Model):
    """How many records of one kind one run deleted in one municipality (never which)."""

    class Kind(models.TextChoices):
        CASE = "case", _("Sager")
        DOCUMENT = "document", _("Dokumenter")
        GRANT = "grant", _("Bevillinger")
        BENEFIT = "benefit", _("Bevilgede ydelser")
        PAYMENT = "payment", _("Udbetalinger")
        CHANGE = "change", _("Historikposter")
        ACCESS_LOG = "access_log", _("Adgangslog")
        BATCH = "batch", _("Leveringsbatches")
        BATCH_RECORD = "batch_record", _("Leverede poster i batches")
        FEED_POLL = "feed_poll", _("Feed-hentninger")
        FEED_REJECT = "feed_reject", _("Afviste feed-poster")
        EVENT = "event", _("Udgående hændelser")
        DELIVERY = "delivery", _("Webhook-leveringer")
        NOTIFICATION = "notification", _("Beskeder til borgere")
        COMMENT = "comment", _("Kommentarer om tilfredshed")

    run = models.ForeignKey(
        RetentionRun, on_delete=models.CASCADE, related_name="counts", verbose_name=_("kørsel")
    )
    # NULL: access-log rows of no municipality (support, operators), KLE's events, and
    # the messages sent to citizens (a citizen's, not a municipality's).
    municipality = models.ForeignKey(
        "indexes.Municipality",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("kommune"),
    )
    kind = models.CharField(_("art"), max_length=12, choices=Kind.choices)
    count = models.PositiveIntegerField(_("antal slettet"), default=0)

    class Meta:
        ordering = ["-run__started_at", "municipality", "kind"]
        verbose_name = _("slettet efter slettefrist")
        verbose_name_plural = _("slettet efter slettefrist")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "municipality", "kind"],
                name="retention_count_one_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.municipality_id or '-'} {self.get_kind_display()}: {self.count}"


class ProductApproval(models.Model):
    """An operator's "approved for roll-out" of a product (seed 004: a pilot, a compliance
    test, then every municipality with the same product). One per product: the mark
    carries to every installation of it, whichever installation's report it was given on.
    """

    product = models.CharField(
        _("produkt"), max_length=40, choices=SourceSystem.Product.choices, unique=True
    )
    # The installation whose conformance report the operator judged.
    based_on = models.ForeignKey(
        SourceSystem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("vurderet på installationen"),
    )
    approved_by = models.CharField(_("godkendt af"), max_length=150)
    approved_at = models.DateTimeField(_("godkendt"), default=timezone.now)
    note = models.CharField(_("bemærkning"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("godkendelse til udrulning")
        verbose_name_plural = _("godkendelser til udrulning")

    def __str__(self) -> str:
        return f"{self.product} ({self.approved_at:%Y-%m-%d})"


class RolloutCategory(models.TextChoices):
    """The four categories of KOMBIT's status map (seed 002, "Status på ØA21"), in its order."""

    NO_DATA = "no_data", _("Ingen data i indekserne")
    NOT_EXPOSED = "not_exposed", _("Data i indekserne, men ikke udstillet")
    SOME_EXPOSED = "some_exposed", _("Enkelte KLE-numre udstillet")
    ALL_MANDATORY = "all_mandatory", _("Alle obligatoriske KLE-numre udstillet")


# A stage's KLE emner as stored: "15.17.06, 32.24.04" (sorted, no repeats).
STAGE_NUMBERS_RE = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}(, [0-9]{2}\.[0-9]{2}\.[0-9]{2})*$"
_TOPIC_RE = r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}"


class RolloutStage(models.Model):
    """A roll-out stage (etape): a list of KLE emner an operator follows the roll-out of.

    Like the mandatory numbers the lists are data, not code: KOMBIT names the areas of a
    stage, not their KLE numbers. The roll-out map filters on ``etape:<slug>``.
    """

    slug = models.SlugField(_("kort navn"), max_length=40, unique=True)
    name = models.CharField(_("navn"), max_length=120)
    kle_numbers = models.TextField(
        _("KLE-numre"),
        help_text=_("KLE-emner (fx 32.24.04) adskilt af komma, mellemrum eller linjeskift."),
    )
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("udrulningsetape")
        verbose_name_plural = _("udrulningsetaper")
        constraints = [
            models.CheckConstraint(
                condition=Q(kle_numbers__regex=STAGE_NUMBERS_RE),
                name="rollout_stage_numbers_are_topics",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def area_key(self) -> str:
        return f"etape:{self.slug}"

    @property
    def numbers(self) -> tuple[str, ...]:
        return tuple(n for n in self.kle_numbers.split(", ") if n)

    def clean(self):
        parts = [p for p in re.split(r"[\s,;]+", self.kle_numbers or "") if p]
        wrong = [p for p in parts if not re.fullmatch(_TOPIC_RE, p)]
        if wrong:
            raise ValidationError(
                {
                    "kle_numbers": _("Ikke et KLE-emne (NN.NN.NN): %(numbers)s")
                    % {"numbers": ", ".join(wrong[:5])}
                }
            )
        if not parts:
            raise ValidationError({"kle_numbers": _("Angiv mindst ét KLE-emne.")})
        self.kle_numbers = ", ".join(sorted(set(parts)))


class RolloutSnapshot(models.Model):
    """Where one municipality stood in one area in one ISO week (the map's history).

    ``week`` is the week's Monday. The nightly job writes the current week's rows and a
    later run in the same week replaces them, so a past week keeps its last run (Sunday's).
    ``area`` is "" (the mandatory numbers), a KLE main group or group ("15", "15.17") or a
    stage ("etape:<slug>").
    """

    week = models.DateField(_("uge (mandag)"))
    municipality = models.ForeignKey(
        "indexes.Municipality",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("kommune"),
    )
    area = models.CharField(_("område"), max_length=60, blank=True, default="")
    category = models.CharField(_("kategori"), max_length=16, choices=RolloutCategory.choices)
    exposed = models.PositiveIntegerField(_("udstillede KLE-numre"), default=0)
    required_exposed = models.PositiveIntegerField(_("krævede KLE-numre udstillet"), default=0)
    required_total = models.PositiveIntegerField(_("krævede KLE-numre i alt"), default=0)
    taken_at = models.DateTimeField(_("opgjort"), default=timezone.now)

    class Meta:
        ordering = ["-week", "area", "municipality"]
        verbose_name = _("udrulningsstatus for en uge")
        verbose_name_plural = _("udrulningsstatus pr. uge")
        constraints = [
            models.UniqueConstraint(
                fields=["week", "municipality", "area"], name="rollout_snapshot_one_per_week"
            ),
            models.CheckConstraint(
                condition=Q(week__iso_week_day=1), name="rollout_snapshot_week_is_monday"
            ),
            models.CheckConstraint(
                condition=Q(category__in=RolloutCategory.values),
                name="rollout_snapshot_category_known",
            ),
        ]
        indexes = [models.Index(fields=["area", "week"], name="rollout_snapshot_area_week")]

    def __str__(self) -> str:
        return f"{self.week:%G-W%V} {self.municipality_id} {self.area or '-'}: {self.category}"


class ApprovedKleNumber(models.Model):
    """A KLE number a unit of the municipality has approved for its cases (seed 002: "hvert
    center [har] fået til opgave at lave en oversigt over hvilke kle nr. de skal anvende").

    A unit is the case's responsible unit (``Case.responsible_unit``) as the source system
    names it, optionally of one source system only. A unit with a list has every case on a
    number not in it flagged by data quality (``unapproved_kle``); a unit with no list is
    not judged. A number, not a link to ``kle.Subject`` (as ``MandatoryKleNumber``): the
    admin form checks it is a KLE emne.
    """

    municipality = models.ForeignKey(
        "indexes.Municipality",
        on_delete=models.CASCADE,
        related_name="approved_kle_numbers",
        verbose_name=_("kommune"),
    )
    source_system = models.ForeignKey(
        SourceSystem,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("fagsystem"),
        help_text=_("Tom: enheden i alle kommunens fagsystemer."),
    )
    unit = models.CharField(
        _("enhed"),
        max_length=255,
        help_text=_("Sagens ansvarlige enhed, som fagsystemet skriver den."),
    )
    kle_number = models.CharField(_("KLE-nr."), max_length=8)

    class Meta:
        ordering = ["municipality", "unit", "kle_number"]
        verbose_name = _("godkendt KLE-nummer for en enhed")
        verbose_name_plural = _("godkendte KLE-numre for enheder")
        constraints = [
            models.CheckConstraint(
                condition=Q(kle_number__regex=r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}$"),
                name="approved_kle_number_is_topic",
            ),
            models.UniqueConstraint(
                fields=["municipality", "source_system", "unit", "kle_number"],
                name="approved_kle_number_unique_per_system",
            ),
            models.UniqueConstraint(
                fields=["municipality", "unit", "kle_number"],
                condition=Q(source_system__isnull=True),
                name="approved_kle_number_unique_all_systems",
            ),
        ]
        indexes = [models.Index(fields=["municipality", "unit"], name="approved_kle_unit_idx")]

    def __str__(self) -> str:
        return f"{self.unit}: {self.kle_number}"

    def clean(self):
        super().clean()
        if (
            self.source_system_id
            and self.municipality_id
            and self.source_system.municipality_id != self.municipality_id
        ):
            raise ValidationError({"source_system": _("Fagsystemet hører til en anden kommune.")})


class QualitySnapshot(models.Model):
    """One day's count of one data-quality check in one municipality (the trend's point).

    Taken daily by Celery beat (``quality_snapshots_take``); a second run on the same day
    replaces that day's rows. Counts only: never which records.
    """

    taken_on = models.DateField(_("dato"))
    municipality = models.ForeignKey(
        "indexes.Municipality",
        on_delete=models.CASCADE,
        related_name="quality_snapshots",
        verbose_name=_("kommune"),
    )
    check_key = models.CharField(_("kontrol"), max_length=40)
    count = models.PositiveIntegerField(_("antal"))
    taken_at = models.DateTimeField(_("optalt"), default=timezone.now)

    class Meta:
        ordering = ["municipality", "check_key", "taken_on"]
        verbose_name = _("datakvalitet på en dag")
        verbose_name_plural = _("datakvalitet over tid")
        constraints = [
            models.UniqueConstraint(
                fields=["taken_on", "municipality", "check_key"],
                name="quality_snapshot_unique_per_day",
            ),
        ]
        indexes = [
            models.Index(
                fields=["municipality", "check_key", "taken_on"], name="quality_snapshot_trend_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.taken_on} {self.municipality_id} {self.check_key}: {self.count}"


# --- usage and satisfaction (issue 16) -------------------------------------------------------


class UsageCount(models.Model):
    """How many times, in one month, citizens saw one kind of page with data from one
    municipality and KLE main group — a counter, nothing per person.

    A page that shows data from several municipalities counts once for each of them: once
    with ``main_group`` empty (the municipality's pages) and once for each main group it
    shows. ``municipality_code`` empty: a page that showed no municipality's data. Rows
    are incremented in one statement by ``borgerblikket.services.usage.usage_count``.
    """

    class PageKind(models.TextChoices):
        LOGIN = "login", _("Log ind")
        OVERVIEW = "overview", _("Overblik")
        CASES = "cases", _("Sager")
        CASE = "case", _("Sag")
        BENEFITS = "benefits", _("Ydelser")
        SERVICES = "services", _("Serviceydelser")
        SERVICE = "service", _("Serviceydelse")
        ACCESS_LOG = "access_log", _("Hvem har set mine data")

    month = models.DateField(_("måned"))  # the first day of the month
    municipality_code = models.CharField(_("kommune"), max_length=3, blank=True)
    main_group = models.CharField(_("KLE-hovedgruppe"), max_length=2, blank=True)
    page_kind = models.CharField(_("side"), max_length=12, choices=PageKind.choices)
    on_behalf = models.BooleanField(_("set for en anden"), default=False)
    count = models.PositiveIntegerField(_("antal"), default=0)

    class Meta:
        ordering = ["-month", "municipality_code", "main_group", "page_kind", "on_behalf"]
        verbose_name = _("optælling af brug")
        verbose_name_plural = _("optællinger af brug")
        default_permissions = ()
        permissions = [("view_usage", _("Kan se brug og tilfredshed"))]
        constraints = [
            models.UniqueConstraint(
                fields=["month", "municipality_code", "main_group", "page_kind", "on_behalf"],
                name="usage_count_one_per_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.municipality_code or '-'} {self.page_kind}: {self.count}"


class SatisfactionAnswer(models.Model):
    """One answer to "Var du tilfreds med dit besøg på Mit Overblik?" (seed 002), kept
    without identity: the month, the municipality only when the citizen's data came from
    exactly one, the answer and an optional comment (CPR-shaped numbers masked whole,
    removed after ``OVERBLIK_SATISFACTION_COMMENT_RETENTION_DAYS``)."""

    class Answer(models.IntegerChoices):
        VERY_SATISFIED = 5, _("Meget tilfreds")
        SATISFIED = 4, _("Tilfreds")
        NEUTRAL = 3, _("Hverken tilfreds eller utilfreds")
        DISSATISFIED = 2, _("Utilfreds")
        VERY_DISSATISFIED = 1, _("Meget utilfreds")

    COMMENT_MAX_LENGTH = 500

    month = models.DateField(_("måned"))  # the first day of the month
    municipality_code = models.CharField(_("kommune"), max_length=3, blank=True)
    answer = models.PositiveSmallIntegerField(_("svar"), choices=Answer.choices)
    comment = models.TextField(_("kommentar"), max_length=COMMENT_MAX_LENGTH, blank=True)

    class Meta:
        ordering = ["-month", "-id"]
        verbose_name = _("svar om tilfredshed")
        verbose_name_plural = _("svar om tilfredshed")
        default_permissions = ()
        constraints = [
            models.CheckConstraint(
                condition=Q(answer__gte=1, answer__lte=5), name="satisfaction_answer_on_scale"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.municipality_code or '-'}: {self.answer}"
