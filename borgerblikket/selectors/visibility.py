"""The visibility rule: what a citizen may see of the indexes. The only door.

A record is shown only when every rule of KOMBIT's Borgerblikket holds
(docs/borgerblikket.md, DOMAIN.md §5):

1. the citizen is the primary party (CPR); records on a CVR number are not shown;
2. the owner municipality has a sheet row for the record's KLE emne;
3. the row's source-system filter, if set, is the sending system;
4. the case was created on or after the row's fradato — or the municipality shows
   active cases (and their benefits) created before it and the case is not closed;
5. the case is not "Visning undtaget for borger";
5a. the sending source system is not a *sandbox* (issue 18: a product under its
   compliance test; ``SourceSystem.sandbox``) — for cases, documents, benefits and
   payments alike;
6. documents: titles only, only when the municipality shows them, never internal
   notes or journal notes, never a document itself "Visning undtaget for borger";
7. caseworkers are never shown;
8. a benefit (and its payments) is shown only if every case it names — by external
   id, or by case number in any source system of the municipality — is a case the
   citizen may see (rules 1-5); one naming a case that is not there is withheld.

Retracted records are never shown. No CPR (or a malformed one) means nothing.

**Who is looking, and whose data** (issue 15): every selector's ``cpr`` is either
the citizen's own CPR number or a ``Looking(who=…, whose=…)``. Someone looking at
another person's data — a holder of a power of attorney, a parent with custody —
gets exactly what that person would see, restricted to the areas (KLE main
groups/groups) of the relation in force today (``selectors.acting``); no relation,
or a relation service that does not answer, means nothing. Same query, same rules:
there is no second door.

Every text a selector returns has its CPR-shaped numbers masked
(``borgerblikket.citizen_safe``: the proxies' querysets, and the lists built here).

Every selector is one SQL query per page: the rule is a pair of correlated
``EXISTS`` against the sheet rows, driven by the partial index on ``party_cpr``,
so the cost does not grow with the size of the index. The returned objects
carry only citizen-safe columns (``CitizenCase`` & co. raise on anything else).
"""

import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    CharField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, Lower, NullIf, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from borgerblikket.citizen_safe import citizen_safe
from borgerblikket.models import (
    CitizenBenefit,
    CitizenCase,
    CitizenPayment,
    ProcessingTimeUnit,
    Sheet,
    SheetRow,
    TitleSource,
)
from borgerblikket.selectors import acting, patterns
from indexes.models import (
    BenefitStatus,
    CaseDocument,
    CaseProgress,
    DocumentRole,
    DocumentType,
    GrantedBenefit,
    Municipality,
    ProgressStatus,
    Sensitivity,
)
from indexes.models import Case as IndexedCase
from kle.models import Subject

_CPR_RE = re.compile(r"^([0-9]{6})-?([0-9]{4})$")

# The columns a citizen's case carries. Never: primary_caseworker, alternative_title,
# party_cvr, description, source_status_text, responsible_unit, sensitivity, nor the
# secondary parties, the benefit recipient or the municipality of residence (issue 18:
# only the primary party sees the case, and the others' names and numbers are not theirs).
CITIZEN_CASE_FIELDS = (
    "id",
    "municipality",
    "kle_subject",
    "case_number",
    "status",
    "created_on",
    "last_changed_at",
    # Since when the municipality waits for the citizen ("Afventer dig"); see
    # ``case_awaits_citizen`` for when a case shows it.
    "awaiting_party_since",
    # What the municipality waits for and by when (issue 14): shown only with the wait.
    "awaiting_party_due",
    "awaiting_party_reason",
)
CITIZEN_BENEFIT_FIELDS = (
    "id",
    "name",
    "kind",
    "kle_subject",
    "start_on",
    "end_on",
    "status",
    "repayable",
    "description",
    "message",
    "delivered_by",
    "granted_by",
)
CITIZEN_PAYMENT_FIELDS = (
    "id",
    "benefit",
    "disposal_date",
    "period_start",
    "period_end",
    "gross_amount",
    "amount_after_tax",
    "amount_sent",
    "amount_paid",
    "paying_office",
)
# Rule 6: what a citizen never sees of a case's documents.
HIDDEN_DOCUMENT_TYPES = (DocumentType.INTERNAL_NOTE,)
HIDDEN_DOCUMENT_ROLES = (DocumentRole.JOURNAL_NOTE,)
# A title that is empty or only digits/dashes (a CPR or case number) is no title; the
# pattern is written for both databases (selectors/patterns.py).
_NO_TITLE_REGEX = patterns.NO_TITLE


def cpr_normalise(*, cpr: str | None) -> str | None:
    """The 10 digits of a CPR number (``DDMMYY-SSSS`` or ``DDMMYYSSSS``), or ``None``."""
    if not cpr or not isinstance(cpr, str):
        return None
    match = _CPR_RE.match(cpr.strip())
    return "".join(match.groups()) if match else None


@dataclass(frozen=True)
class Looking:
    """``who`` (the logged-in citizen's CPR) looks at ``whose`` data.

    ``assurance`` is the NSIS assurance level ``who`` logged in with (the broker's claim
    value, e.g. ``…/nsis/loa/Substantial``); it decides whether the citizen's own
    sensitive case titles are shown (``sensitive_titles_withheld``). The portal always
    passes a ``Looking``; a bare CPR number (the admin's preview) shows every title.
    """

    who: str
    whose: str
    assurance: str | None = None


# NSIS assurance levels, lowest first; a claim value is known by its last path segment.
ASSURANCE_LEVELS = ("low", "substantial", "high")
# Sensitivity "Følsomme personoplysninger" and higher (SF1470 Foelsomhed).
SENSITIVE_LEVELS = (Sensitivity.SENSITIVE, Sensitivity.VIP)


def assurance_rank(level: str | None) -> int:
    """0 low (and anything unknown), 1 substantial, 2 high."""
    name = (level or "").rstrip("/").rsplit("/", 1)[-1].strip().lower()
    return ASSURANCE_LEVELS.index(name) if name in ASSURANCE_LEVELS else 0


def sensitive_titles_withheld(cpr, *, municipality: str = "municipality_id") -> Q | None:
    """Where the viewer sees a neutral title for a sensitive record: a ``Q`` on the
    record's ``municipality`` (every municipality while acting for someone else; where the
    login's assurance is below the municipality's level for oneself: its sheet's
    ``sensitive_titles_assurance``, else ``OVERBLIK_SENSITIVE_TITLES_LOA``), or ``None``
    (nowhere). The sheets are read in the same statement (a subquery), not before it."""
    if not isinstance(cpr, Looking):
        return None
    if cpr_normalise(cpr=cpr.who) != cpr_normalise(cpr=cpr.whose):
        return Q()
    rank = assurance_rank(cpr.assurance)
    default = assurance_rank(settings.OVERBLIK_SENSITIVE_TITLES_LOA)
    if rank >= ASSURANCE_LEVELS.index("high"):
        return None  # no level is above the highest
    if rank < default:
        # Withheld everywhere but where a sheet asks for no more than this login has.
        enough = Sheet.objects.filter(sensitive_titles_assurance__lte=rank)
        return ~Q(**{f"{municipality}__in": enough.values("municipality_id")})
    stricter = Sheet.objects.filter(sensitive_titles_assurance__gt=rank)
    return Q(**{f"{municipality}__in": stricter.values("municipality_id")})


def _withheld_q(cpr) -> Q:
    """The sensitive cases whose title (and documents' titles) this viewer does not see."""
    where = sensitive_titles_withheld(cpr)
    if where is None:
        return Q(pk__in=[])
    return Q(sensitivity__in=SENSITIVE_LEVELS) & where


def _benefit_withheld_q(cpr, *, path: str = "") -> Q:
    """The benefits whose name (and message) this viewer does not see: a benefit is as
    sensitive as its grant, or as the case it or its grant names; ``path`` leads from the
    queried model to the benefit (``"benefit__"`` from a payment)."""
    where = sensitive_titles_withheld(cpr, municipality=f"{path}grant__municipality_id")
    if where is None:
        return Q(pk__in=[])
    sensitive = (
        Q(**{f"{path}grant__sensitivity__in": SENSITIVE_LEVELS})
        | Q(**{f"{path}related_case__sensitivity__in": SENSITIVE_LEVELS})
        | Q(**{f"{path}grant__related_case__sensitivity__in": SENSITIVE_LEVELS})
    )
    return sensitive & where


def _neutral_name(lead: str, *, path: str = ""):
    """``lead`` and the record's KLE main group's name, in lower case: "Sag om sundhed" for
    a case, "Ydelse inden for sociale ydelser" for a benefit; ``path`` leads from the
    queried model to the record (``"benefit__"`` from a payment)."""
    main_group = Subject.objects.filter(
        number=Substr(OuterRef(f"{path}kle_subject__number"), 1, 2)
    ).values("title")[:1]
    return Concat(
        Value(lead),
        Lower(Subquery(main_group, output_field=CharField())),
        output_field=CharField(),
    )


def _neutral_title():
    """ "Sag om <the KLE main group's name>" for the outer case ("Sag om sundhed")."""
    return _neutral_name(str(_("Sag om ")))


def _neutral_benefit_name(*, path: str = ""):
    """ "Ydelse inden for <the KLE main group's name>" ("Ydelse inden for sociale ydelser")."""
    return _neutral_name(str(_("Ydelse inden for ")), path=path)


# A resolved viewer: whose CPR (normalised), and the KLE areas (None: every area).
Resolved = tuple[str, tuple[str, ...] | None]


def _resolve(cpr) -> Resolved | None:
    """Whose data, and within which areas; ``None`` when nothing may be seen."""
    if isinstance(cpr, Looking):
        who, whose = cpr_normalise(cpr=cpr.who), cpr_normalise(cpr=cpr.whose)
        if who is None or whose is None:
            return None
        if who == whose:
            return whose, None
        scope = acting.scope_for(who=who, whose=whose)
        if not scope:
            return None
        return whose, None if scope == acting.ALL_AREAS else scope
    normalised = cpr_normalise(cpr=cpr)
    return None if normalised is None else (normalised, None)


def scope_q(scope: tuple[str, ...] | None, field: str = "kle_subject__number") -> Q:
    """Records whose KLE number lies in one of the areas (no areas given: every record)."""
    if scope is None:
        return Q()
    q = Q(pk__in=[])
    for area in scope:
        q |= Q(**{field: area}) | Q(**{f"{field}__startswith": f"{area}."})
    return q


def exposure_q(
    *, municipality: str, kle_subject: str, source_system: str, created_on: str, is_open: Q
) -> Q:
    """Rules 2-4 for the outer record's fields (names of fields or annotations)."""
    rows = SheetRow.objects.filter(
        municipality=OuterRef(municipality), kle_subject=OuterRef(kle_subject)
    ).filter(Q(source_system__isnull=True) | Q(source_system=OuterRef(source_system)))
    on_or_after_show_from = Exists(rows.filter(show_from__lte=OuterRef(created_on)))
    shows_active = Sheet.objects.filter(
        municipality=OuterRef("municipality"), show_active_cases_before_show_from=True
    )
    active_before_show_from = Exists(rows.filter(Exists(shows_active)))
    not_sandbox = Q(**{f"{source_system}__sandbox": False})
    return not_sandbox & (Q(on_or_after_show_from) | (is_open & Q(active_before_show_from)))


def _cases(*, cpr: str, model=IndexedCase, scope: tuple[str, ...] | None = None) -> QuerySet:
    """The visible cases of a normalised CPR (internal use: no field restriction)."""
    return model.objects.filter(
        scope_q(scope), party_cpr=cpr, retracted_at__isnull=True, hidden_from_citizen=False
    ).filter(
        exposure_q(
            municipality="municipality",
            kle_subject="kle_subject",
            source_system="source_system",
            created_on="created_on",
            is_open=~Q(status=ProgressStatus.CLOSED),
        )
    )


def _row_name():
    """The sheet row's KLE-navn for the outer record (empty → KLE's own title)."""
    row = (
        SheetRow.objects.filter(
            municipality=OuterRef("municipality"), kle_subject=OuterRef("kle_subject")
        )
        .annotate(name=Coalesce(NullIf("display_name", Value("")), "kle_subject__title"))
        .order_by()
    )
    return Subquery(row.values("name")[:1], output_field=CharField())


def cases_visible_to_citizen(
    *, cpr: "str | Looking | None", municipality: str | None = None
) -> QuerySet[CitizenCase]:
    """The citizen's cases that the rules let them see, newest change first.

    Each case carries ``display_title``: the case's own title or the sheet's KLE-navn,
    as the municipality chose (the KLE-navn also when the case title is empty or only
    a number). ``municipality`` narrows to one municipality (preview as citizen).
    A sensitive case the viewer may not see the title of (``sensitive_titles_withheld``)
    shows "Sag om <KLE main group>" instead, and carries ``title_withheld``.
    """
    cpr_arg = cpr
    resolved = _resolve(cpr)
    if resolved is None:
        return CitizenCase.objects.none()
    cpr, scope = resolved
    visible = _cases(cpr=cpr, model=CitizenCase, scope=scope)
    if municipality is not None:
        visible = visible.filter(municipality=municipality)
    title_source = Subquery(
        Sheet.objects.filter(municipality=OuterRef("municipality"))
        .order_by()
        .values("title_source")[:1]
    )
    withheld = _withheld_q(cpr_arg)
    return (
        visible.only(*CITIZEN_CASE_FIELDS)
        .alias(_title_source=title_source)
        .annotate(
            # The KLE number, for the usage counters' main group (issue 16).
            kle_number=F("kle_subject__number"),
            title_withheld=Case(
                When(withheld, then=Value(True)), default=Value(False), output_field=BooleanField()
            ),
            display_title=Case(
                When(withheld, then=_neutral_title()),
                When(
                    Q(_title_source=TitleSource.CASE) & ~Q(title__regex=_NO_TITLE_REGEX),
                    then=F("title"),
                ),
                default=_row_name(),
                output_field=CharField(),
            ),
        )
        .order_by("-last_changed_at", "-id")
    )


def case_awaits_citizen(case) -> bool:
    """Whether a visible case waits for the citizen to act ("Afventer dig", seed 002).

    Only an open case waits: a closed case never shows it, whatever the source sent.
    """
    return case.awaiting_party_since is not None and case.status != ProgressStatus.CLOSED


def cases_awaiting_citizen(*, cpr: "str | Looking | None") -> QuerySet[CitizenCase]:
    """The citizen's visible cases the municipality waits for them on, longest wait first.

    ``case_awaits_citizen``'s rule in SQL (a wait on an open case), for the overview's
    "Kommunen venter på dig" box (issue 11.10).
    """
    return (
        cases_visible_to_citizen(cpr=cpr)
        .filter(awaiting_party_since__isnull=False)
        .exclude(status=ProgressStatus.CLOSED)
        .order_by("awaiting_party_since", "id")
    )


def case_visible_to_citizen(*, cpr: "str | Looking | None", case_id: int) -> CitizenCase | None:
    """One case if the citizen may see it, else ``None`` (never says why)."""
    try:
        case_id = int(case_id)
    except (TypeError, ValueError):
        return None
    return cases_visible_to_citizen(cpr=cpr).filter(pk=case_id).first()


@dataclass(frozen=True)
class CitizenDocument:
    """What a citizen sees of a document: its title and when, never its contents."""

    id: int
    title: str
    letter_date: dt.date | None
    type: str
    type_label: str


def documents_visible_for_case(*, cpr: "str | Looking | None", case) -> list[CitizenDocument]:
    """Titles of the case's documents, if the case is visible and the municipality shows them.

    Internal notes, journal notes and documents "Visning undtaget for borger" are never
    shown (rule 6); nor the titles on a sensitive case whose own title is withheld.
    """
    withheld = _withheld_q(cpr)
    resolved = _resolve(cpr)
    case_id = getattr(case, "pk", case)
    if resolved is None or case_id is None:
        return []
    cpr, scope = resolved
    shows_titles = Sheet.objects.filter(
        municipality=OuterRef("municipality"), show_document_titles=True
    )
    visible_case = (
        _cases(cpr=cpr, scope=scope)
        .filter(pk=OuterRef("case_id"))
        .filter(Exists(shows_titles))
        .exclude(withheld)
    )
    links = (
        CaseDocument.objects.filter(case_id=case_id)
        .filter(Exists(visible_case))
        .exclude(role__in=HIDDEN_DOCUMENT_ROLES)
        .exclude(document__type__in=HIDDEN_DOCUMENT_TYPES)
        .filter(document__retracted_at__isnull=True, document__hidden_from_citizen=False)
        .filter(document__source_system__sandbox=False)
        .order_by("document__letter_date", "document_id")
        .values_list("document_id", "document__title", "document__letter_date", "document__type")
    )
    labels = dict(DocumentType.choices)
    documents = [
        CitizenDocument(id=i, title=t, letter_date=d, type=k, type_label=str(labels.get(k, k)))
        for i, t, d, k in links
    ]
    return citizen_safe(documents)


@dataclass(frozen=True)
class CitizenProgress:
    """One period of a case's progress history (SF1470 Fremdrift), [start, end)."""

    status: str
    start: dt.datetime
    end: dt.datetime | None


def case_progress_visible_to_citizen(*, cpr: "str | Looking | None", case) -> list[CitizenProgress]:
    """The progress history of a case the citizen may see, oldest first; else nothing."""
    resolved = _resolve(cpr)
    case_id = getattr(case, "pk", case)
    if resolved is None or case_id is None:
        return []
    cpr, scope = resolved
    visible_case = _cases(cpr=cpr, scope=scope).filter(pk=OuterRef("case_id"))
    periods = (
        CaseProgress.objects.filter(case_id=case_id)
        .filter(Exists(visible_case))
        .order_by("valid_from")
        .values_list("status", "valid_from", "valid_to")
    )
    return [CitizenProgress(status=s, start=start, end=end) for s, start, end in periods]


def _benefits(*, cpr: str, model=None, scope: tuple[str, ...] | None = None) -> QuerySet:
    """The visible granted benefits of a normalised CPR (internal use).

    A benefit follows its KLE class and the cases it names (its own related case and
    its grant's, named by external id or — also across source systems of the
    municipality — by case number; ``indexes.services.references``):

    - a named case must be one the citizen may see under every case rule (rules 1-5:
      their own, not hidden, not retracted, in the sheet from its fradato, from an
      admitted source system), else the benefit and its payments are not shown;
    - a benefit that names a case that is not there (not delivered yet, never
      delivered, or ambiguous) is withheld: what the municipality hides on the case
      must not show through the benefit (docs/borgerblikket.md; the data-quality
      report lists such benefits);
    - the fradato is held against that case's creation date (the benefit's start date
      when there is none), and "active" means the case is not closed (the benefit is
      Aktiv when there is none).
    """
    model = model or GrantedBenefit

    def case_ok(prefix: str) -> Q:
        path = f"{prefix}__" if prefix else ""
        names_a_case = ~Q(**{f"{path}related_case_external_id": ""}) | ~Q(
            **{f"{path}related_case_number": ""}
        )
        visible = _cases(cpr=cpr, scope=scope).filter(pk=OuterRef(f"{path}related_case"))
        return (Q(**{f"{path}related_case__isnull": True}) & ~names_a_case) | Q(Exists(visible))

    anchor_status = Coalesce("related_case__status", "grant__related_case__status")
    is_open = (Q(_anchor_status__isnull=False) & ~Q(_anchor_status=ProgressStatus.CLOSED)) | (
        Q(_anchor_status__isnull=True) & Q(status=BenefitStatus.ACTIVE)
    )
    return (
        model.objects.filter(scope_q(scope), grant__party_cpr=cpr, grant__retracted_at__isnull=True)
        .filter(case_ok(""), case_ok("grant"))
        .alias(
            _anchor_date=Coalesce(
                "related_case__created_on", "grant__related_case__created_on", "start_on"
            ),
            _anchor_status=anchor_status,
        )
        .filter(
            exposure_q(
                municipality="grant__municipality",
                kle_subject="kle_subject",
                source_system="grant__source_system",
                created_on="_anchor_date",
                is_open=is_open,
            )
        )
    )


def benefits_visible_to_citizen(
    *, cpr: "str | Looking | None", municipality: str | None = None
) -> QuerySet[CitizenBenefit]:
    """The citizen's granted benefits the rules let them see, newest first.

    Each carries ``municipality_code``, ``payment_plan`` (when there is one) and
    ``visible_related_case_id`` (the related case, only when the citizen may see it).
    """
    cpr_arg = cpr
    resolved = _resolve(cpr)
    if resolved is None:
        return CitizenBenefit.objects.none()
    cpr, scope = resolved
    visible = _benefits(cpr=cpr, model=CitizenBenefit, scope=scope)
    if municipality is not None:
        visible = visible.filter(grant__municipality=municipality)
    related = Coalesce("related_case_id", "grant__related_case_id")
    visible_case = _cases(cpr=cpr, scope=scope).filter(pk=OuterRef("_related"))
    withheld = _benefit_withheld_q(cpr_arg)
    return (
        visible.select_related("payment_plan")
        .only(*CITIZEN_BENEFIT_FIELDS, *(f"payment_plan__{f}" for f in _PLAN_FIELDS))
        .alias(_related=related)
        .annotate(
            # A sensitive benefit the viewer may not see the name of: the proxy's rows
            # carry the neutral name in ``name`` and no message (CitizenSafeQuerySet).
            name_withheld=Case(
                When(withheld, then=Value(True)), default=Value(False), output_field=BooleanField()
            ),
            neutral_name=Case(
                When(withheld, then=_neutral_benefit_name()),
                default=None,
                output_field=CharField(),
            ),
            municipality_code=F("grant__municipality_id"),
            kle_number=F("kle_subject__number"),
            visible_related_case_id=Case(
                When(Exists(visible_case), then=F("_related")),
                default=None,
                output_field=BigIntegerField(),
            ),
        )
        .order_by("-start_on", "-id")
    )


_PLAN_FIELDS = ("id", "frequency", "timing", "payment_day", "amount", "start_on", "end_on")


def payments_visible_to_citizen(
    *, cpr: "str | Looking | None", municipality: str | None = None
) -> QuerySet[CitizenPayment]:
    """Payments of the citizen's visible benefits, newest disposal date first; each
    carries ``benefit_name`` (neutral for a sensitive benefit, as on the benefit)."""
    cpr_arg = cpr
    resolved = _resolve(cpr)
    if resolved is None:
        return CitizenPayment.objects.none()
    cpr, scope = resolved
    benefits = _benefits(cpr=cpr, scope=scope)
    if municipality is not None:
        benefits = benefits.filter(grant__municipality=municipality)
    return (
        CitizenPayment.objects.filter(benefit__in=benefits.values("pk"), retracted_at__isnull=True)
        .filter(Q(party_cpr=cpr) | Q(party_cpr__isnull=True))
        .only(*CITIZEN_PAYMENT_FIELDS)
        .annotate(
            benefit_name=Case(
                When(
                    _benefit_withheld_q(cpr_arg, path="benefit__"),
                    then=_neutral_benefit_name(path="benefit__"),
                ),
                default=F("benefit__name"),
                output_field=CharField(),
            ),
            # What the page shows, for the usage counters (issue 16).
            municipality_code=F("benefit__grant__municipality_id"),
            kle_number=F("benefit__kle_subject__number"),
        )
        .order_by("-disposal_date", "-id")
    )


@dataclass(frozen=True)
class ExposedArea:
    """One KLE emne a municipality shows, with the sheet's contact details."""

    municipality_code: str
    municipality_name: str
    kle_number: str
    name: str
    show_from: dt.date
    contact_department: str
    contact_phone: str
    info_url: str
    digital_post_url: str
    self_service_name: str
    self_service_url: str
    # The row's Fagsystem filter (rule 3): only cases from this system; "" = from all.
    source_system_name: str = ""


def _areas(rows: QuerySet) -> list[ExposedArea]:
    rows = rows.select_related("municipality", "kle_subject", "source_system").order_by(
        "municipality_id", "kle_subject__number"
    )
    areas = [
        ExposedArea(
            municipality_code=row.municipality_id,
            municipality_name=row.municipality.name,
            kle_number=row.kle_subject.number,
            name=row.display_name or row.kle_subject.title,
            show_from=row.show_from,
            contact_department=row.contact_department,
            contact_phone=row.contact_phone,
            info_url=row.info_url,
            digital_post_url=row.digital_post_url,
            self_service_name=row.self_service_name,
            self_service_url=row.self_service_url,
            source_system_name=row.source_system.name if row.source_system_id else "",
        )
        for row in rows
    ]
    return citizen_safe(areas)


def exposed_areas_for_municipality(*, municipality: str) -> list[ExposedArea]:
    """What one municipality shows (public: "absence means absence", seed 004)."""
    return _areas(SheetRow.objects.filter(municipality=municipality))


def _citizens_municipalities(
    cpr: str, field: str = "municipality", scope: tuple[str, ...] | None = None
) -> Q:
    """The municipalities "the citizen's own" for what they show (issue 11.11), as a
    condition on ``field``: those with a visible benefit, or a case about them that is not
    withheld from them — one in an area the sheet does not show counts (so the citizen
    learns what that municipality shows), a hidden ("Visning undtaget") or retracted one
    does not (that would tell)."""
    cases = IndexedCase.objects.filter(
        scope_q(scope),
        party_cpr=cpr,
        retracted_at__isnull=True,
        hidden_from_citizen=False,
        source_system__sandbox=False,
    ).values("municipality")
    benefits = _benefits(cpr=cpr, scope=scope).values("grant__municipality")
    return Q(**{f"{field}__in": cases}) | Q(**{f"{field}__in": benefits})


def municipalities_for_citizen(*, cpr: "str | Looking | None") -> list[tuple[str, str]]:
    """(code, name) of the citizen's municipalities (``_citizens_municipalities``), by name."""
    resolved = _resolve(cpr)
    if resolved is None:
        return []
    cpr, scope = resolved
    rows = Municipality.objects.filter(_citizens_municipalities(cpr, "pk", scope)).order_by("name")
    return list(rows.values_list("code", "name"))


def exposed_areas_for_citizen(*, cpr: "str | Looking | None") -> list[ExposedArea]:
    """What each of the citizen's municipalities (``_citizens_municipalities``) shows."""
    resolved = _resolve(cpr)
    if resolved is None:
        return []
    cpr, scope = resolved
    return _areas(
        SheetRow.objects.filter(_citizens_municipalities(cpr, scope=scope), scope_q(scope))
    )


def case_contact(*, cpr: "str | Looking | None", case_id: int) -> ExposedArea | None:
    """The sheet's contact details for a case the citizen may see (the contact box)."""
    resolved = _resolve(cpr)
    if resolved is None:
        return None
    cpr, scope = resolved
    case = (
        _cases(cpr=cpr, scope=scope)
        .filter(pk=case_id)
        .values("municipality", "kle_subject")
        .first()
    )
    if case is None:
        return None
    areas = _areas(
        SheetRow.objects.filter(municipality=case["municipality"], kle_subject=case["kle_subject"])
    )
    return areas[0] if areas else None


def benefit_contact(*, cpr: "str | Looking | None", benefit_id: int) -> ExposedArea | None:
    """The sheet's contact details for a granted benefit the citizen may see.

    Seed 002's service page ("Kontakt"): the municipality's sheet row for the
    benefit's KLE class, as ``case_contact`` is for a case; the row must admit the
    granting source system (rule 3). ``None`` when the citizen may not see the
    benefit or the sheet has no such row.
    """
    resolved = _resolve(cpr)
    if resolved is None:
        return None
    cpr, scope = resolved
    try:
        benefit_id = int(benefit_id)
    except (TypeError, ValueError):
        return None
    benefit = (
        _benefits(cpr=cpr, scope=scope)
        .filter(pk=benefit_id)
        .values("grant__municipality", "grant__source_system", "kle_subject")
        .first()
    )
    if benefit is None:
        return None
    areas = _areas(
        SheetRow.objects.filter(
            municipality=benefit["grant__municipality"], kle_subject=benefit["kle_subject"]
        ).filter(Q(source_system__isnull=True) | Q(source_system=benefit["grant__source_system"]))
    )
    return areas[0] if areas else None


@dataclass(frozen=True)
class ExpectedDecision:
    """When a decision is expected by the municipality's published processing time.

    ``due`` is the day the case arose plus the sheet row's *sagsbehandlingsfrist*
    (retssikkerhedsloven § 3, stk. 2); ``passed`` once that day is over (Danish time);
    ``contact`` is the sheet row's contact details, whom to ask when it has passed.
    """

    due: dt.date
    passed: bool
    arose_on: dt.date
    processing_time: int
    processing_time_unit: str
    contact: ExposedArea


def case_expected_decision(
    *, cpr: "str | Looking | None", case_id: int, today: dt.date | None = None
) -> ExpectedDecision | None:
    """The expected decision of a case the citizen may see, else ``None`` (never says why).

    Only for a case not yet decided (status Opstaaet or Oplyst: a decided or closed case
    says nothing of it) whose sheet row — the one that makes it visible — publishes a
    processing time. The case arose when its Opstaaet period began (SF1470 Fremdrift;
    the case's ``created_on`` when its history has none), taken as a Danish date.
    """
    resolved = _resolve(cpr)
    if resolved is None:
        return None
    cpr, scope = resolved
    try:
        case_id = int(case_id)
    except (TypeError, ValueError):
        return None
    arose = (
        CaseProgress.objects.filter(case_id=OuterRef("pk"), status=ProgressStatus.OPENED)
        .order_by("valid_from")
        .values("valid_from")[:1]
    )
    case = (
        _cases(cpr=cpr, scope=scope)
        .filter(pk=case_id, status__in=(ProgressStatus.OPENED, ProgressStatus.INFORMED))
        .annotate(_arose=Subquery(arose))
        .values("municipality", "kle_subject", "source_system", "created_on", "_arose")
        .first()
    )
    if case is None:
        return None
    rows = SheetRow.objects.filter(
        municipality=case["municipality"],
        kle_subject=case["kle_subject"],
        processing_time__isnull=False,
    ).filter(Q(source_system__isnull=True) | Q(source_system=case["source_system"]))
    row = rows.only("processing_time", "processing_time_unit").first()
    if row is None:
        return None
    areas = _areas(SheetRow.objects.filter(pk=row.pk))
    arose_on = timezone.localdate(case["_arose"]) if case["_arose"] else case["created_on"]
    weeks = row.processing_time_unit == ProcessingTimeUnit.WEEKS
    due = arose_on + dt.timedelta(days=row.processing_time * (7 if weeks else 1))
    today = today or timezone.localdate()
    return ExpectedDecision(
        due=due,
        passed=due < today,
        arose_on=arose_on,
        processing_time=row.processing_time,
        processing_time_unit=row.processing_time_unit,
        contact=areas[0],
    )
