"""The benefit index (Ydelsesindeks, KOMBIT YI v6).

A grant (Bevilling) holds granted benefits (BevilgetYdelse); an economic
benefit has a payment plan (OekonomiskEffektueringsplan) and payments
(OekonomiskEffektuering). Money is DKK with øre, always ``Decimal``.
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from config.cpr_shape import cpr_shapes_mask
from indexes.models.common import IndexedRecord, Sensitivity

MONEY = {"max_digits": 14, "decimal_places": 2}


class BenefitStatus(models.TextChoices):
    """YI ``BevillingIndeksStatusKode``."""

    ACTIVE = "Aktiv", _("Aktiv")
    INACTIVE = "Inaktiv", _("Inaktiv")
    PASSIVE = "Passiv", _("Passiv")


class BenefitKind(models.TextChoices):
    ECONOMIC = "oekonomisk", _("Økonomisk ydelse")
    SERVICE = "service", _("Serviceydelse eller hjælpemiddel")


class PaymentTiming(models.TextChoices):
    """YI ``ForudBagud``."""

    IN_ADVANCE = "Forud", _("Forud")
    IN_ARREARS = "Bagud", _("Bagud")


class Grant(IndexedRecord):
    """A grant (Bevilling) to a citizen."""

    case_number = models.CharField(_("sagsnummer"), max_length=100, blank=True)
    party_cpr = models.CharField(_("part (CPR)"), max_length=10, null=True, blank=True)  # noqa: DJ001 - NULL: no such party
    # Ydelsesmodtager (a YI Bevillingspart of that role): who receives the benefit when it
    # is not the party (a landlord, a provider, a guardian). For the municipality's own use:
    # never shown to citizens and never a key to a citizen's overview.
    recipient_cpr = models.CharField(  # noqa: DJ001 - NULL: no such party
        _("ydelsesmodtager (CPR)"), max_length=10, null=True, blank=True
    )
    recipient_cvr = models.CharField(  # noqa: DJ001 - NULL: no such party
        _("ydelsesmodtager (CVR)"), max_length=8, null=True, blank=True
    )
    recipient_name = models.CharField(_("ydelsesmodtagers navn"), max_length=255, blank=True)
    start_on = models.DateField(_("startdato"))
    end_on = models.DateField(_("slutdato"), null=True, blank=True)
    reason = models.TextField(_("begrundelse"), blank=True)
    sensitivity = models.CharField(
        _("følsomhed"),
        max_length=30,
        choices=Sensitivity.choices,
        default=Sensitivity.CONFIDENTIAL,
    )
    status = models.CharField(_("status"), max_length=10, choices=BenefitStatus.choices)
    related_case = models.ForeignKey(
        "indexes.Case",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="grants",
        verbose_name=_("relateret sag"),
    )
    # The related case as delivered: by external id (a case of the same source system) or
    # by case number (of the same system or, as a payment system names the jobcentre's
    # case, of another source system of the same municipality). ``related_case`` is the
    # resolved case, kept current by ``indexes.services.references`` in either delivery
    # order; NULL while the named case is missing or ambiguous — the citizen is then
    # shown nothing of the grant (docs/borgerblikket.md).
    related_case_external_id = models.CharField(
        _("relateret sags eksterne id"), max_length=100, blank=True
    )
    related_case_number = models.CharField(
        _("relateret sags sagsnummer"), max_length=100, blank=True
    )

    class Meta:
        verbose_name = _("bevilling")
        verbose_name_plural = _("bevillinger")
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "external_id"], name="grant_external_id_unique_per_system"
            ),
            models.CheckConstraint(
                condition=Q(recipient_cpr__isnull=True) | Q(recipient_cpr__regex=r"^[0-9]{10}$"),
                name="grant_recipient_cpr_ten_digits",
            ),
            models.CheckConstraint(
                condition=Q(recipient_cpr__isnull=True) | Q(recipient_cvr__isnull=True),
                name="grant_recipient_cpr_or_cvr",
            ),
            models.CheckConstraint(
                condition=Q(recipient_name="")
                | Q(recipient_cpr__isnull=False)
                | Q(recipient_cvr__isnull=False),
                name="grant_recipient_name_needs_a_number",
            ),
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(end_on__gte=F("start_on")),
                name="grant_period_forward",
            ),
            models.CheckConstraint(
                condition=Q(party_cpr__isnull=True) | Q(party_cpr__regex=r"^[0-9]{10}$"),
                name="grant_party_cpr_ten_digits",
            ),
        ]
        indexes = [
            models.Index(
                fields=["party_cpr"], name="grant_party_idx", condition=Q(party_cpr__isnull=False)
            ),
            # References waiting for their case (resolved when it is delivered).
            models.Index(
                fields=["related_case_external_id"],
                name="grant_pending_case_idx",
                condition=Q(related_case__isnull=True) & ~Q(related_case_external_id=""),
            ),
            models.Index(
                fields=["municipality", "related_case_number"],
                name="grant_case_number_ref_idx",
                condition=~Q(related_case_number=""),
            ),
        ]

    def __str__(self) -> str:
        # Shown wherever a record is named (admin links, headings): CPR-shaped text masked.
        return cpr_shapes_mask(self.case_number or self.external_id)


class GrantedBenefit(models.Model):
    """A granted benefit (BevilgetYdelse), delivered as part of its grant."""

    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="benefits")
    external_id = models.CharField(_("eksternt id"), max_length=100)  # BevilgetYdelseId
    name = models.CharField(_("navn"), max_length=255)  # Ydelsesnavn
    kind = models.CharField(_("art"), max_length=12, choices=BenefitKind.choices)
    kle_subject = models.ForeignKey(  # Klassifikation, e.g. 32.03.04
        "kle.Subject", on_delete=models.PROTECT, related_name="+", verbose_name=_("KLE-emne")
    )
    start_on = models.DateField(_("bevilget fra"))
    end_on = models.DateField(_("bevilget til"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=BenefitStatus.choices)
    repayable = models.BooleanField(_("tilbagebetalingspligtig"), default=False)
    description = models.TextField(_("beskrivelse"), blank=True)
    message = models.TextField(_("meddelelse"), blank=True)
    delivered_by = models.CharField(_("leveres af"), max_length=255, blank=True)
    granted_by = models.CharField(_("bevilget af"), max_length=255, blank=True)
    related_case = models.ForeignKey(
        "indexes.Case",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="benefits",
        verbose_name=_("relateret sag"),
    )
    related_case_external_id = models.CharField(
        _("relateret sags eksterne id"), max_length=100, blank=True
    )
    related_case_number = models.CharField(  # as on the grant
        _("relateret sags sagsnummer"), max_length=100, blank=True
    )

    class Meta:
        verbose_name = _("bevilget ydelse")
        verbose_name_plural = _("bevilgede ydelser")
        constraints = [
            models.UniqueConstraint(
                fields=["grant", "external_id"], name="granted_benefit_unique_per_grant"
            ),
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(end_on__gte=F("start_on")),
                name="granted_benefit_period_forward",
            ),
        ]
        indexes = [
            models.Index(
                fields=["related_case_external_id"],
                name="benefit_pending_case_idx",
                condition=Q(related_case__isnull=True) & ~Q(related_case_external_id=""),
            ),
            models.Index(
                fields=["related_case_number"],
                name="benefit_case_number_ref_idx",
                condition=~Q(related_case_number=""),
            ),
        ]

    def __str__(self) -> str:
        return cpr_shapes_mask(self.name)


class PaymentPlan(models.Model):
    """OekonomiskEffektueringsplan of an economic benefit."""

    benefit = models.OneToOneField(
        GrantedBenefit, on_delete=models.CASCADE, related_name="payment_plan"
    )
    frequency = models.CharField(_("frekvens"), max_length=50)  # Beregningsfrekvens
    timing = models.CharField(_("forud/bagud"), max_length=5, choices=PaymentTiming.choices)
    payment_day = models.CharField(_("udbetalingsdag"), max_length=100)  # Dispositionsdag
    amount = models.DecimalField(_("beløb"), **MONEY)  # Ydelsesbeloeb
    start_on = models.DateField(_("fra"), null=True, blank=True)
    end_on = models.DateField(_("til"), null=True, blank=True)

    class Meta:
        verbose_name = _("udbetalingsplan")
        verbose_name_plural = _("udbetalingsplaner")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_plan_amount_positive"),
        ]

    def __str__(self) -> str:
        return cpr_shapes_mask(f"{self.frequency} {self.amount} kr.")


class Payment(IndexedRecord):
    """A payment (OekonomiskEffektuering) of an economic benefit."""

    benefit = models.ForeignKey(GrantedBenefit, on_delete=models.PROTECT, related_name="payments")
    # Denormalised from the grant so a citizen's payments are one index away.
    party_cpr = models.CharField(_("part (CPR)"), max_length=10, null=True, blank=True)  # noqa: DJ001 - NULL: no such party
    disposal_date = models.DateField(_("dispositionsdato"))
    period_start = models.DateField(_("periode fra"))
    period_end = models.DateField(_("periode til"))
    gross_amount = models.DecimalField(_("bruttobeløb"), **MONEY)  # SamletBruttobeloeb
    amount_after_tax = models.DecimalField(  # BeloebEfterSkatATP
        _("beløb efter skat og ATP"), **MONEY
    )
    amount_sent = models.DecimalField(  # BeloebSendtTilUdbetaling
        _("sendt til udbetaling"), **MONEY, null=True, blank=True
    )
    amount_paid = models.DecimalField(
        _("udbetalt"), **MONEY, null=True, blank=True
    )  # BeloebUdbetalt
    paying_office = models.CharField(  # Udbetalingsafdeling
        _("udbetalingsafdeling"), max_length=255, blank=True
    )

    class Meta:
        verbose_name = _("udbetaling")
        verbose_name_plural = _("udbetalinger")
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "external_id"],
                name="payment_external_id_unique_per_system",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="payment_period_forward"
            ),
            models.CheckConstraint(
                condition=Q(gross_amount__gte=0) & Q(amount_after_tax__gte=0),
                name="payment_amounts_not_negative",
            ),
        ]
        indexes = [
            models.Index(
                fields=["party_cpr", "-disposal_date"],
                name="payment_party_recent_idx",
                condition=Q(party_cpr__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.disposal_date} {self.gross_amount} kr."
