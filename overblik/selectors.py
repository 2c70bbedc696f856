"""Reads of the citizen portal, composed from ``borgerblikket.selectors``.

Every citizen record comes through the Borgerblikket selectors (the visibility
rule, deny by default); this module only orders, slices and groups what they
return for the pages. The one direct read is the citizen's own access log
(``DataAccess``), filtered by the logged-in citizen's CPR number.
"""

import calendar
import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext_lazy as _

from borgerblikket.citizen_safe import citizen_safe
from borgerblikket.selectors import (
    ExposedArea,
    benefit_contact,
    benefits_visible_to_citizen,
    case_awaits_citizen,
    case_contact,
    case_expected_decision,
    case_progress_visible_to_citizen,
    case_visible_to_citizen,
    cases_awaiting_citizen,
    cases_visible_to_citizen,
    cpr_normalise,
    documents_visible_for_case,
    exposed_areas_for_citizen,
    municipalities_for_citizen,
    payments_visible_to_citizen,
)
from indexes.models import BenefitKind, BenefitStatus, DataAccess, ProgressStatus
from indexes.municipalities import MUNICIPALITIES
from indexes.services.access import SUBJECT_SEPARATOR

OVERVIEW_ITEMS = 5
ACCESS_LOG_PAGE_SIZE = 25


# --- Statuses as the citizen sees them (seed 002: Behandles, Afventer dig, Afsluttet) ----


@dataclass(frozen=True)
class CitizenStatus:
    code: str  # "processing", "awaiting_citizen", "closed", "active", "ended", "paused"
    label: str
    badge: str  # DKFDS badge variant


PROCESSING = CitizenStatus("processing", _("Behandles"), "info")
AWAITING_CITIZEN = CitizenStatus("awaiting_citizen", _("Afventer dig"), "warning")
CLOSED = CitizenStatus("closed", _("Afsluttet"), "success")
ACTIVE = CitizenStatus("active", _("Aktiv"), "info")
ENDED = CitizenStatus("ended", _("Afsluttet"), "success")
PAUSED = CitizenStatus("paused", _("Sat i bero"), "warning")


def case_citizen_status(case) -> CitizenStatus:
    """Behandles / Afventer dig / Afsluttet for a visible case.

    "Afventer dig" when the municipality waits for the citizen (the index's
    ``awaiting_party_since``, through ``case_awaits_citizen``); never on a closed case.
    """
    if case.status == ProgressStatus.CLOSED:
        return CLOSED
    if case_awaits_citizen(case):
        return AWAITING_CITIZEN
    return PROCESSING


@dataclass(frozen=True)
class CitizenWait:
    """What the municipality waits for the citizen to do, and by when (issue 14)."""

    since: dt.datetime
    due: dt.date | None
    reason: str
    overdue: bool


def case_wait(case, *, today: dt.date | None = None) -> CitizenWait | None:
    """The wait of a visible case ("Afventer dig"), or None when it waits for nothing.

    Overdue once the due day has passed (Danish time): the due day itself is not.
    """
    if not case_awaits_citizen(case):
        return None
    today = today or timezone.localdate()
    due = case.awaiting_party_due
    return CitizenWait(
        since=case.awaiting_party_since,
        due=due,
        reason=case.awaiting_party_reason,
        overdue=due is not None and due < today,
    )


def benefit_citizen_status(benefit, *, today: dt.date | None = None) -> CitizenStatus:
    """Aktiv / Afsluttet / Sat i bero for a visible granted benefit."""
    today = today or timezone.localdate()
    if benefit.end_on and benefit.end_on < today:
        return ENDED
    if benefit.status == BenefitStatus.PASSIVE:
        return PAUSED
    if benefit.status == BenefitStatus.INACTIVE:
        return ENDED
    return ACTIVE


# --- Areas each municipality shows ("absence means absence", seed 004) --------------


@dataclass
class MunicipalityAreas:
    code: str
    name: str
    areas: list[ExposedArea] = field(default_factory=list)


def areas_by_municipality(*, cpr: str) -> list[MunicipalityAreas]:
    """What each of the citizen's municipalities shows, by municipality — also one that
    shows them nothing or shows no areas at all (issue 11.11: Kim must learn that Odense
    shows only job centre areas)."""
    grouped: OrderedDict[str, MunicipalityAreas] = OrderedDict(
        (code, MunicipalityAreas(code=code, name=name))
        for code, name in municipalities_for_citizen(cpr=cpr)
    )
    for area in exposed_areas_for_citizen(cpr=cpr):
        group = grouped.setdefault(
            area.municipality_code,
            MunicipalityAreas(code=area.municipality_code, name=area.municipality_name),
        )
        group.areas.append(area)
    return list(grouped.values())


def municipality_names(areas: list[MunicipalityAreas]) -> dict[str, str]:
    return {group.code: group.name for group in areas}


# --- Overview --------------------------------------------------------------------


def overview_for_citizen(*, cpr: str) -> dict:
    """What the Overblik page shows: the cases that wait for the citizen, latest cases,
    latest payments, active services, areas."""
    areas = areas_by_municipality(cpr=cpr)
    today = timezone.localdate()
    services = [
        benefit
        for benefit in benefits_visible_to_citizen(cpr=cpr).filter(kind=BenefitKind.SERVICE)
        if benefit_citizen_status(benefit, today=today) == ACTIVE
    ]
    return {
        # What waits for the citizen opens the page (issue 11.10).
        "awaiting": [
            (case, case_wait(case, today=today)) for case in cases_awaiting_citizen(cpr=cpr)
        ],
        "cases": list(cases_visible_to_citizen(cpr=cpr)[:OVERVIEW_ITEMS]),
        "payments": list(payments_visible_to_citizen(cpr=cpr)[:OVERVIEW_ITEMS]),
        "services": services[:OVERVIEW_ITEMS],
        "service_count": len(services),
        "areas": areas,
        "municipality_names": municipality_names(areas),
    }


# --- Cases -----------------------------------------------------------------------

CASE_FILTERS = {
    "alle": None,
    "aabne": "open",
    "afsluttede": "closed",
}


def cases_for_list(*, cpr: str, which: str | None) -> QuerySet:
    """The citizen's visible cases, newest change first, optionally only open or closed."""
    cases = cases_visible_to_citizen(cpr=cpr)
    if which == "open":
        return cases.exclude(status=ProgressStatus.CLOSED)
    if which == "closed":
        return cases.filter(status=ProgressStatus.CLOSED)
    return cases


@dataclass(frozen=True)
class TimelineStep:
    status: str
    label: str
    start: dt.datetime
    end: dt.datetime | None
    is_current: bool


def case_timeline(*, cpr: str, case) -> list[TimelineStep]:
    """The case's progress history (SF1470 Fremdrift), oldest first, when the
    citizen may see the case."""
    labels = dict(ProgressStatus.choices)
    return [
        TimelineStep(
            status=step.status,
            label=labels.get(step.status, step.status),
            start=step.start,
            end=step.end,
            is_current=step.end is None,
        )
        for step in case_progress_visible_to_citizen(cpr=cpr, case=case)
    ]


def case_page(*, cpr: str, case_id: int) -> dict | None:
    """Everything the case page shows, or None when the citizen may not see the case."""
    case = case_visible_to_citizen(cpr=cpr, case_id=case_id)
    if case is None:
        return None
    related = list(benefits_visible_to_citizen(cpr=cpr).filter(visible_related_case_id=case.pk))
    # Each related benefit's payments, through the door (only those the citizen may see).
    payments: dict[int, list] = {b.pk: [] for b in related}
    if related:
        for payment in payments_visible_to_citizen(cpr=cpr).filter(benefit__in=list(payments)):
            payments[payment.benefit_id].append(payment)
    for benefit in related:
        benefit.case_payments = payments[benefit.pk]
    # A visible case has its municipality's sheet row for its KLE emne (rule 2), so the
    # contact box's row names the municipality: no read of all the citizen's areas.
    contact = case_contact(cpr=cpr, case_id=case.pk)
    return {
        "case": case,
        "status": case_citizen_status(case),
        "wait": case_wait(case),
        # "Forventet afgørelse senest …" (issue 14), reckoned in the door.
        "expected": case_expected_decision(cpr=cpr, case_id=case.pk),
        "timeline": case_timeline(cpr=cpr, case=case),
        "documents": documents_visible_for_case(cpr=cpr, case=case),
        "contact": contact,
        "related_benefits": related,
        "municipality_name": contact.municipality_name if contact else "",
    }


# --- Economic benefits and payments ------------------------------------------------


@dataclass
class MonthOfPayments:
    month: dt.date  # first day of the month
    payments: list = field(default_factory=list)

    @property
    def gross(self) -> Decimal:
        return sum((p.gross_amount for p in self.payments), Decimal(0))

    @property
    def after_tax(self) -> Decimal:
        return sum((p.amount_after_tax for p in self.payments), Decimal(0))

    @property
    def paid(self) -> Decimal:
        return sum((p.amount_paid or Decimal(0) for p in self.payments), Decimal(0))


@dataclass
class YearOfPayments:
    year: int
    months: list[MonthOfPayments] = field(default_factory=list)

    @property
    def gross(self) -> Decimal:
        return sum((m.gross for m in self.months), Decimal(0))

    @property
    def after_tax(self) -> Decimal:
        return sum((m.after_tax for m in self.months), Decimal(0))

    @property
    def paid(self) -> Decimal:
        return sum((m.paid for m in self.months), Decimal(0))


def payments_by_year_and_month(payments) -> list[YearOfPayments]:
    """Payments (newest first) grouped by year and month of their disposal date."""
    years: OrderedDict[int, YearOfPayments] = OrderedDict()
    for payment in payments:
        day = payment.disposal_date
        year = years.setdefault(day.year, YearOfPayments(year=day.year))
        month_start = day.replace(day=1)
        if not year.months or year.months[-1].month != month_start:
            year.months.append(MonthOfPayments(month=month_start))
        year.months[-1].payments.append(payment)
    return list(years.values())


@dataclass(frozen=True)
class ExpectedPayment:
    amount: Decimal
    on: dt.date | None  # None: the plan's payment day cannot be turned into a date
    payment_day: str


def _last_bank_day(year: int, month: int) -> dt.date:
    day = dt.date(year, month, calendar.monthrange(year, month)[1])
    while day.weekday() >= 5:  # Saturday, Sunday (public holidays are not known here)
        day -= dt.timedelta(days=1)
    return day


def next_expected_payment(benefit, *, today: dt.date | None = None) -> ExpectedPayment | None:
    """The next payment the payment plan promises (YI OekonomiskEffektueringsplan).

    A date is worked out for monthly plans paid on the last bank day of the month
    (the common "Sidste bankdag i måneden"); otherwise the plan's own wording is shown.
    """
    plan = getattr(benefit, "payment_plan", None)
    if plan is None:
        return None
    today = today or timezone.localdate()
    if (plan.end_on and plan.end_on < today) or (benefit.end_on and benefit.end_on < today):
        return None
    on = None
    if "sidste bankdag" in plan.payment_day.lower() and "måned" in plan.frequency.lower():
        on = _last_bank_day(today.year, today.month)
        if on < today:
            following = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            on = _last_bank_day(following.year, following.month)
        if plan.start_on and on < plan.start_on:
            on = _last_bank_day(plan.start_on.year, plan.start_on.month)
    return ExpectedPayment(amount=plan.amount, on=on, payment_day=plan.payment_day)


@dataclass
class EconomicBenefit:
    benefit: object
    status: CitizenStatus
    expected: ExpectedPayment | None
    years: list[YearOfPayments]


def economic_benefits_page(*, cpr: str) -> list[EconomicBenefit]:
    """The citizen's economic benefits, each with its payments by year and month."""
    today = timezone.localdate()
    benefits = list(benefits_visible_to_citizen(cpr=cpr).filter(kind=BenefitKind.ECONOMIC))
    payments: dict[int, list] = {b.pk: [] for b in benefits}
    for payment in payments_visible_to_citizen(cpr=cpr):
        if payment.benefit_id in payments:
            payments[payment.benefit_id].append(payment)
    return [
        EconomicBenefit(
            benefit=benefit,
            status=benefit_citizen_status(benefit, today=today),
            expected=next_expected_payment(benefit, today=today),
            years=payments_by_year_and_month(payments[benefit.pk]),
        )
        for benefit in benefits
    ]


# --- Services and aids -------------------------------------------------------------


def services_for_list(*, cpr: str) -> list:
    """The citizen's visible services and aids (seed 002's list), newest grant first."""
    today = timezone.localdate()
    services = list(benefits_visible_to_citizen(cpr=cpr).filter(kind=BenefitKind.SERVICE))
    for service in services:
        service.citizen_status = benefit_citizen_status(service, today=today)
    return services


def service_page(*, cpr: str, benefit_id: int) -> dict | None:
    """One service or aid with its contact details, or None when not the citizen's to see."""
    try:
        benefit_id = int(benefit_id)
    except (TypeError, ValueError):
        return None
    service = (
        benefits_visible_to_citizen(cpr=cpr)
        .filter(kind=BenefitKind.SERVICE, pk=benefit_id)
        .select_related("kle_subject")
        .first()
    )
    if service is None:
        return None
    # "Kontakt": the sheet row of the benefit's KLE class, through the one door.
    contact = benefit_contact(cpr=cpr, benefit_id=service.pk)
    return {
        "service": service,
        "status": benefit_citizen_status(service),
        "contact": contact,
        "municipality_name": contact.municipality_name
        if contact
        else dict(MUNICIPALITIES).get(service.municipality_code, ""),
    }


# --- The citizen's own access log ("Hvem har set mine data") -----------------------


def data_accesses_for_citizen(*, cpr: str | None) -> QuerySet[DataAccess]:
    """Who else has read the citizen's data, newest first (deny by default: no CPR, no rows)."""
    cpr = cpr_normalise(cpr=cpr)
    if cpr is None:
        return DataAccess.objects.none()
    return (
        DataAccess.objects.filter(citizen_cpr=cpr)
        .select_related("municipality", "source_system")
        .order_by("-accessed_at", "-pk")
    )


@dataclass(frozen=True)
class CitizenAccess:
    """One read of the citizen's data, in the citizen's words: when, who, what (issue 11.12).

    Who is a role and an organisation ("En medarbejder i Odense Kommune"), never a
    person's or account's name; what is the kind of record, the area it is about and
    where it was seen ("så din sag om … (liste over sager)").
    """

    accessed_at: dt.datetime
    who: str
    what: str

    @property
    def sentence(self) -> str:
        return f"{self.who} {self.what}."


_THINGS = {
    # record kind → (about one area, about several, about none the citizen may be told)
    DataAccess.RecordKind.CASE: (
        _("din sag om %(subject)s"),
        _("dine sager om %(subject)s"),
        _("din sag"),
    ),
    DataAccess.RecordKind.DOCUMENT: (
        _("et dokument på din sag om %(subject)s"),
        _("dokumenter på dine sager om %(subject)s"),
        _("et dokument på din sag"),
    ),
    DataAccess.RecordKind.GRANT: (
        _("din bevilling om %(subject)s"),
        _("dine bevillinger om %(subject)s"),
        _("din bevilling"),
    ),
    DataAccess.RecordKind.BENEFIT: (
        _("din ydelse om %(subject)s"),
        _("dine ydelser om %(subject)s"),
        _("din ydelse"),
    ),
    DataAccess.RecordKind.PAYMENT: (
        _("dine udbetalinger om %(subject)s"),
        _("dine udbetalinger om %(subject)s"),
        _("dine udbetalinger"),
    ),
    DataAccess.RecordKind.CHANGE: (
        _("ændringer af dine oplysninger om %(subject)s"),
        _("ændringer af dine oplysninger om %(subject)s"),
        _("ændringer af dine oplysninger"),
    ),
}
_LISTS = {
    DataAccess.RecordKind.CASE: _("liste over sager"),
    DataAccess.RecordKind.DOCUMENT: _("liste over dokumenter"),
    DataAccess.RecordKind.GRANT: _("liste over bevillinger"),
    DataAccess.RecordKind.BENEFIT: _("liste over ydelser"),
    DataAccess.RecordKind.PAYMENT: _("liste over udbetalinger"),
    DataAccess.RecordKind.CHANGE: _("liste over ændringer"),
}
_WHERE = {
    DataAccess.Channel.ADMIN_RECORD: _("åbnet i kommunens administration af Mit Overblik"),
    DataAccess.Channel.PREVIEW: _("kontrol af, hvad du kan se i Mit Overblik"),
    DataAccess.Channel.QUALITY_REPORT: _("rapport om datakvalitet"),
    DataAccess.Channel.QUALITY_DOWNLOAD: _("udtræk af rapport om datakvalitet"),
    DataAccess.Channel.API_READBACK: _("fagsystemets kontrol af sine egne indberetninger"),
}


def _who(access: DataAccess) -> str:
    if access.actor_type == DataAccess.Actor.HOLDER:
        if access.actor_relation:
            return _("Din %(relation)s %(name)s") % {
                "relation": access.actor_relation,
                "name": access.actor_name,
            }
        return access.actor_name or str(_("En med fuldmagt fra dig"))
    if access.actor_type == DataAccess.Actor.PARENT:
        return _("Din forælder %(name)s") % {"name": access.actor_name}
    municipality = access.municipality.name if access.municipality_id else ""
    if access.actor_type == DataAccess.Actor.MUNICIPAL_ADMIN:
        if municipality:
            return _("En medarbejder i %(municipality)s Kommune") % {"municipality": municipality}
        return str(_("En medarbejder i din kommune"))
    if access.actor_type == DataAccess.Actor.SOURCE_SYSTEM:
        system = access.source_system.get_product_display() if access.source_system_id else ""
        if system and municipality:
            return _("Fagsystemet %(system)s i %(municipality)s Kommune") % {
                "system": system,
                "municipality": municipality,
            }
        if municipality:
            return _("Et fagsystem i %(municipality)s Kommune") % {"municipality": municipality}
        return str(_("Et af kommunens fagsystemer"))
    if access.actor_type == DataAccess.Actor.SUPPORT:
        return str(_("En supportmedarbejder hos Mit Overblik"))
    return str(_("En medarbejder i Mit Overbliks nationale drift"))


def _what(access: DataAccess) -> str:
    subjects = [s for s in access.subject.split(SUBJECT_SEPARATOR) if s]
    if access.record_kind in _THINGS:
        one, several, none = _THINGS[access.record_kind]
        if subjects:
            phrase = one if len(subjects) == 1 else several
            thing = phrase % {"subject": get_text_list(subjects, str(_("og")))}
        else:
            thing = str(none)
    else:
        thing = str(_("dine sager og ydelser"))
    if access.channel == DataAccess.Channel.API_READBACK:
        what = _("læste %(thing)s") % {"thing": thing}
    else:
        what = _("så %(thing)s") % {"thing": thing}
    if access.actor_type == DataAccess.Actor.HOLDER:
        return _("%(what)s, med fuldmagt") % {"what": what}
    if access.actor_type == DataAccess.Actor.PARENT:
        return _("%(what)s, med forældremyndighed") % {"what": what}
    if access.channel == DataAccess.Channel.ADMIN_LIST:
        where = _LISTS.get(access.record_kind, _("en liste i kommunens administration"))
    else:
        where = _WHERE.get(access.channel)
    return f"{what} ({where})" if where else what


def data_access_described(access: DataAccess) -> CitizenAccess:
    """One access-log row as the citizen reads it (CPR-shaped numbers masked)."""
    return citizen_safe(
        CitizenAccess(accessed_at=access.accessed_at, who=str(_who(access)), what=_what(access))
    )


def data_access_page(*, cpr: str | None, number) -> Page:
    """One page of the citizen's access log, each row described in their words."""
    page = Paginator(data_accesses_for_citizen(cpr=cpr), ACCESS_LOG_PAGE_SIZE).get_page(number)
    page.object_list = [data_access_described(access) for access in page.object_list]
    return page


# The reader's own record of what they saw for others (issue 15): about one area, about
# several, about none named.
_SEEN_FOR_OTHERS = {
    DataAccess.RecordKind.CASE: (_("sag om %(subject)s"), _("sager om %(subject)s"), _("sager")),
    DataAccess.RecordKind.BENEFIT: (
        _("ydelse om %(subject)s"),
        _("ydelser om %(subject)s"),
        _("ydelser"),
    ),
}


def seen_for_others_page(*, cpr: str | None, number) -> Page:
    """What the citizen saw while acting for others ("Det har du set for andre"), newest
    first, each in their words: "Du så oplysninger for Kim Borgersen: sag om …, med fuldmagt".
    """
    cpr = cpr_normalise(cpr=cpr)
    rows = (
        DataAccess.objects.filter(actor_cpr=cpr).order_by("-accessed_at", "-pk")
        if cpr
        else DataAccess.objects.none()
    )
    page = Paginator(rows, ACCESS_LOG_PAGE_SIZE).get_page(number)
    described = []
    for access in page.object_list:
        subjects = [s for s in access.subject.split(SUBJECT_SEPARATOR) if s]
        one, several, none = _SEEN_FOR_OTHERS.get(
            access.record_kind, (_("%(subject)s"), _("%(subject)s"), _("sager og ydelser"))
        )
        if subjects:
            phrase = one if len(subjects) == 1 else several
            thing = phrase % {"subject": get_text_list(subjects, str(_("og")))}
        else:
            thing = str(none)
        basis = (
            _("med forældremyndighed")
            if access.actor_type == DataAccess.Actor.PARENT
            else _("med fuldmagt")
        )
        described.append(
            CitizenAccess(
                accessed_at=access.accessed_at,
                who=str(_("Du så oplysninger for %(name)s:") % {"name": access.citizen_name}),
                what=f"{thing}, {basis}",
            )
        )
    page.object_list = citizen_safe(described)
    return page
