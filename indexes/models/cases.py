"""The case and document index (Sags- og Dokumentindeks, KOMBIT SF1470 v6).

Simplified where it does not matter to citizens; the field comments name the
SF1470 attribute each one carries.
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from config.cpr_shape import cpr_shapes_mask
from indexes.models.common import IndexedRecord, Sensitivity


class ProgressStatus(models.TextChoices):
    """SF1470 ``Fremdrift``: Opstaaet → Oplyst → Afgjort → Afsluttet."""

    OPENED = "Opstaaet", _("Opstået")
    INFORMED = "Oplyst", _("Oplyst")
    DECIDED = "Afgjort", _("Afgjort")
    CLOSED = "Afsluttet", _("Afsluttet")


class Case(IndexedRecord):
    """A case (Sag). The citizen is its primary party (``party_cpr``)."""

    case_number = models.CharField(_("sagsnummer"), max_length=100)  # BrugervendtNoegle
    title = models.CharField(_("titel"), max_length=255)  # Titel
    alternative_title = models.CharField(  # AlternativTitel, never public
        _("alternativ titel"), max_length=255, blank=True
    )
    description = models.TextField(_("beskrivelse"), blank=True)  # Beskrivelse
    source_status_text = models.CharField(  # KommuneFagsystemStatus (free text)
        _("fagsystemets status"), max_length=255, blank=True
    )
    sensitivity = models.CharField(
        _("følsomhed"),
        max_length=30,
        choices=Sensitivity.choices,
        default=Sensitivity.CONFIDENTIAL,
    )
    hidden_from_citizen = models.BooleanField(  # "Visning undtaget for borger"
        _("visning undtaget for borger"), default=False
    )
    kle_subject = models.ForeignKey(  # Primaerklasse: a KLE emne
        "kle.Subject", on_delete=models.PROTECT, related_name="+", verbose_name=_("KLE-emne")
    )
    facet = models.ForeignKey(  # Handlingsfacet
        "kle.Facet", on_delete=models.PROTECT, related_name="+", verbose_name=_("handlingsfacet")
    )
    responsible_unit = models.CharField(  # Ansvarlig organisationsenhed
        _("ansvarlig enhed"), max_length=255, blank=True
    )
    # Primaer sagsbehandler: for data quality only, never shown to citizens.
    primary_caseworker = models.CharField(_("primær sagsbehandler"), max_length=255, blank=True)
    # Primaer part: a CPR number (10 digits, no dash) or a CVR number, or none.
    party_cpr = models.CharField(_("primær part (CPR)"), max_length=10, null=True, blank=True)  # noqa: DJ001 - NULL: no such party
    party_cvr = models.CharField(_("primær part (CVR)"), max_length=8, null=True, blank=True)  # noqa: DJ001 - NULL: no such party
    # Sekundær part (SF1470 Sagspart, 0..*): other parties of the case, a list of
    # {"cpr"|"cvr": …, "name"?: …} in canonical form (at most MAX_SECONDARY_PARTIES). For the
    # municipality's own use: they never make the case visible to that person, and are never
    # shown to citizens (docs/borgerblikket.md).
    secondary_parties = models.JSONField(_("sekundære parter"), default=list, blank=True)
    # Ydelsesmodtager (SF1470 Sagspart, 0..1): who receives the benefit when it is not the
    # primary party. Like the secondary parties, never a key to the citizen's overview.
    benefit_recipient_cpr = models.CharField(  # noqa: DJ001 - NULL: no such party
        _("ydelsesmodtager (CPR)"), max_length=10, null=True, blank=True
    )
    benefit_recipient_cvr = models.CharField(  # noqa: DJ001 - NULL: no such party
        _("ydelsesmodtager (CVR)"), max_length=8, null=True, blank=True
    )
    benefit_recipient_name = models.CharField(
        _("ydelsesmodtagers navn"), max_length=255, blank=True
    )
    # Bopælskommune (SF1470 Sagsaktør, 0..1): where the primary party lives, when it is not
    # the owner municipality. NULL: not given.
    residence_municipality = models.ForeignKey(
        "indexes.Municipality",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("bopælskommune"),
    )
    decision_class = models.CharField(  # Afgoerelsesklasse
        _("afgørelsesklasse"), max_length=100, blank=True
    )
    created_on = models.DateField(_("oprettet"))  # the case's own creation date
    # Derived from the progress history by the ingestion service; stored for queries.
    status = models.CharField(
        _("status"), max_length=10, choices=ProgressStatus.choices, default=ProgressStatus.OPENED
    )
    last_changed_at = models.DateTimeField(_("senest ændret"))
    # Not in SF1470: since when the municipality has been waiting for the primary party
    # to act (send papers, answer a hearing, book a meeting). Mit Overblik shows such an
    # open case as "Afventer dig" (seed 002); NULL: the municipality is not waiting.
    # Ingestion refuses it on a case with an Afsluttet period, so a closed case never has it.
    awaiting_party_since = models.DateTimeField(_("afventer parten siden"), null=True, blank=True)
    # Also not in SF1470 (issue 14): what the municipality waits for and by when, e.g.
    # "Send lønsedler for de seneste tre måneder" by 26 April. Both belong to a wait:
    # ingestion and the constraint below refuse them without ``awaiting_party_since``.
    awaiting_party_due = models.DateField(_("afventer parten senest"), null=True, blank=True)
    awaiting_party_reason = models.CharField(
        _("hvad kommunen venter på"), max_length=255, blank=True
    )
    related_cases = models.ManyToManyField(
        "self", through="CaseRelation", symmetrical=False, blank=True
    )

    class Meta:
        verbose_name = _("sag")
        verbose_name_plural = _("sager")
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "external_id"], name="case_external_id_unique_per_system"
            ),
            # A case number is unique per source system among live cases (issue 12.4): no
            # system learns or blocks another's numbers, and a retracted case's number can be
            # used again. A grant names a case of another system by its number
            # (``Grant.related_case_number``, resolved by ``indexes.services.references``).
            models.UniqueConstraint(
                fields=["source_system", "case_number"],
                condition=Q(retracted_at__isnull=True),
                name="case_number_unique_per_system_live",
            ),
            models.CheckConstraint(
                condition=Q(party_cpr__isnull=True) | Q(party_cpr__regex=r"^[0-9]{10}$"),
                name="case_party_cpr_ten_digits",
            ),
            models.CheckConstraint(
                condition=Q(benefit_recipient_cpr__isnull=True)
                | Q(benefit_recipient_cpr__regex=r"^[0-9]{10}$"),
                name="case_benefit_recipient_cpr_ten_digits",
            ),
            models.CheckConstraint(
                condition=Q(benefit_recipient_cpr__isnull=True)
                | Q(benefit_recipient_cvr__isnull=True),
                name="case_benefit_recipient_cpr_or_cvr",
            ),
            models.CheckConstraint(
                condition=Q(benefit_recipient_name="")
                | Q(benefit_recipient_cpr__isnull=False)
                | Q(benefit_recipient_cvr__isnull=False),
                name="case_benefit_recipient_name_needs_a_number",
            ),
            models.CheckConstraint(
                condition=Q(awaiting_party_since__isnull=True) | ~Q(status=ProgressStatus.CLOSED),
                name="case_closed_not_awaiting_party",
            ),
            models.CheckConstraint(
                condition=Q(awaiting_party_since__isnull=False)
                | (Q(awaiting_party_due__isnull=True) & Q(awaiting_party_reason="")),
                name="case_awaiting_details_need_a_wait",
            ),
        ]
        indexes = [
            # The citizen's overview: their cases, newest change first.
            models.Index(
                fields=["party_cpr", "-last_changed_at"],
                name="case_party_recent_idx",
                condition=Q(party_cpr__isnull=False),
            ),
            models.Index(fields=["municipality", "kle_subject"], name="case_municipality_kle_idx"),
            # Cross-system references by case number (indexes.services.references).
            models.Index(
                fields=["municipality", "case_number"],
                name="case_municipality_number_idx",
                condition=Q(retracted_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        # Shown wherever a case is named (admin links, headings): a CPR in a title is masked.
        return cpr_shapes_mask(f"{self.case_number} {self.title}")


class CaseRelation(models.Model):
    """A related case (Sagsrelation), named by the related case's external id.

    The reference is resolved within the same source system. A case may name a
    related case that has not been delivered yet: the row then keeps only
    ``related_external_id`` (``related`` is NULL) and is resolved when that
    case arrives, so delivery order does not matter.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="relations")
    related = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    related_external_id = models.CharField(_("relateret sags eksterne id"), max_length=100)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "related"], name="case_relation_unique"),
            models.UniqueConstraint(
                fields=["case", "related_external_id"], name="case_relation_unique_external_id"
            ),
            models.CheckConstraint(condition=~Q(case=F("related")), name="case_relation_not_self"),
        ]
        indexes = [
            models.Index(
                fields=["related_external_id"],
                name="case_relation_pending_idx",
                condition=Q(related__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.related_id or self.related_external_id}"


class CaseProgress(models.Model):
    """One period of the progress history, valid [valid_from, valid_to)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="progress")
    status = models.CharField(_("status"), max_length=10, choices=ProgressStatus.choices)
    valid_from = models.DateTimeField(_("fra"))
    valid_to = models.DateTimeField(_("til"), null=True, blank=True)  # open end = infinity

    class Meta:
        ordering = ["case", "valid_from"]
        verbose_name = _("fremdrift")
        verbose_name_plural = _("fremdrift")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="case_progress_period_forward",
            ),
            models.UniqueConstraint(
                fields=["case", "valid_from"], name="case_progress_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.status} [{self.valid_from:%Y-%m-%d}, {self.valid_to or '∞'})"


class DocumentType(models.TextChoices):
    """The nine SF1470 document types."""

    INCOMING_LETTER = "Brev, indgaaende", _("Brev, indgående")
    OUTGOING_LETTER = "Brev, udgaaende", _("Brev, udgående")
    INTERNAL_NOTE = "Internt Notat", _("Internt notat")
    EXTERNAL_NOTE = "Eksternt Notat", _("Eksternt notat")
    INVOICE = "Faktura", _("Faktura")
    REPORT = "Rapport", _("Rapport")
    AGENDA = "Dagsorden", _("Dagsorden")
    PLAN = "Plan", _("Plan")
    OTHER = "Andet", _("Andet")


class DocumentStatus(models.TextChoices):
    """SF1470 document status."""

    RECEIVED = "Modtaget", _("Modtaget")
    DISTRIBUTED = "Fordelt", _("Fordelt")
    DRAFTING = "Underudarbejdelse", _("Under udarbejdelse")
    IN_REVIEW = "Underreview", _("Under review")
    PUBLISHED = "Publiceret", _("Publiceret")
    FINAL = "Endeligt", _("Endeligt")
    DELIVERED = "Afleveret", _("Afleveret")


class DocumentRole(models.TextChoices):
    """How a document belongs to a case."""

    FILED = "Tilakteret", _("Tilakteret")
    ATTACHED = "Vedlagt", _("Vedlagt")
    JOURNAL_NOTE = "Journalnotat", _("Journalnotat")


class Document(IndexedRecord):
    """Document metadata; citizens see at most its title."""

    title = models.CharField(_("titel"), max_length=255)
    letter_date = models.DateField(_("brevdato"), null=True, blank=True)
    type = models.CharField(_("type"), max_length=20, choices=DocumentType.choices)
    status = models.CharField(_("status"), max_length=20, choices=DocumentStatus.choices)
    sensitivity = models.CharField(
        _("følsomhed"),
        max_length=30,
        choices=Sensitivity.choices,
        default=Sensitivity.CONFIDENTIAL,
    )
    kle_subject = models.ForeignKey(
        "kle.Subject",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("KLE-emne"),
    )
    # SF1470 gives each document its own "Visning undtaget for borger" (issue 11.2): such a
    # document is never shown to the citizen, not even its title.
    hidden_from_citizen = models.BooleanField(_("visning undtaget for borger"), default=False)
    # Sender and recipient (SF1470 Dokumentpart, role "Parter": the sender of an incoming
    # letter, the recipient of an outgoing one; seed 002, "Afsender/modtager"): a CPR or a
    # CVR number and a name, or none. For data quality; never shown to citizens.
    sender_cpr = models.CharField(_("afsender (CPR)"), max_length=10, null=True, blank=True)  # noqa: DJ001 - NULL: no such party
    sender_cvr = models.CharField(_("afsender (CVR)"), max_length=8, null=True, blank=True)  # noqa: DJ001 - NULL: no such party
    sender_name = models.CharField(_("afsenders navn"), max_length=255, blank=True)
    recipient_cpr = models.CharField(_("modtager (CPR)"), max_length=10, null=True, blank=True)  # noqa: DJ001 - NULL: no such party
    recipient_cvr = models.CharField(_("modtager (CVR)"), max_length=8, null=True, blank=True)  # noqa: DJ001 - NULL: no such party
    recipient_name = models.CharField(_("modtagers navn"), max_length=255, blank=True)
    cases = models.ManyToManyField(Case, through="CaseDocument", related_name="documents")

    class Meta:
        verbose_name = _("dokument")
        verbose_name_plural = _("dokumenter")
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "external_id"],
                name="document_external_id_unique_per_system",
            ),
            *(
                constraint
                for party in ("sender", "recipient")
                for constraint in (
                    models.CheckConstraint(
                        condition=Q(**{f"{party}_cpr__isnull": True})
                        | Q(**{f"{party}_cpr__regex": r"^[0-9]{10}$"}),
                        name=f"document_{party}_cpr_ten_digits",
                    ),
                    models.CheckConstraint(
                        condition=Q(**{f"{party}_cpr__isnull": True})
                        | Q(**{f"{party}_cvr__isnull": True}),
                        name=f"document_{party}_cpr_or_cvr",
                    ),
                    models.CheckConstraint(
                        condition=Q(**{f"{party}_name": ""})
                        | Q(**{f"{party}_cpr__isnull": False})
                        | Q(**{f"{party}_cvr__isnull": False}),
                        name=f"document_{party}_name_needs_a_number",
                    ),
                )
            ),
        ]

    def __str__(self) -> str:
        return cpr_shapes_mask(self.title)


class CaseDocument(models.Model):
    """A document's link to a case, with its role (Tilakteret, Vedlagt, Journalnotat)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="document_links")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="case_links")
    role = models.CharField(_("rolle"), max_length=20, choices=DocumentRole.choices)

    class Meta:
        verbose_name = _("sagsdokument")
        verbose_name_plural = _("sagsdokumenter")
        constraints = [
            models.UniqueConstraint(fields=["case", "document"], name="case_document_unique"),
        ]
        indexes = [models.Index(fields=["document"], name="case_document_document_idx")]

    def __str__(self) -> str:
        return f"{self.document_id} {self.role} {self.case_id}"
