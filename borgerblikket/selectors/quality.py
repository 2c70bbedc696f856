"""Data quality of a municipality's indexed records, per source system.

The checks come from seed 002 (Fredensborg's "kvalitetsmodul" and Odense's
findings): KLE marking, single-case principle (samlesager), meaningful titles,
letters with a sender or recipient, open cases with an active caseworker, closing
finished cases, passive cases reviewed every 6 months; and seed 000's complaint
cases (handlingsfacet K). Each check is one SQL-backed queryset of offending records; its
counts per source system are one ``GROUP BY`` query.
"""

import datetime as dt
import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case as CaseWhen
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Lower, Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from borgerblikket.models import (
    ApprovedKleNumber,
    QualitySnapshot,
    Sheet,
    SheetRow,
    TitleAbbreviation,
    TitleLeadWord,
)
from borgerblikket.selectors import patterns
from borgerblikket.selectors.visibility import exposure_q
from config.cpr_shape import CPR_SHAPE_SQL, cpr_shape_in, cpr_shapes_mask
from indexes.feeds.selectors import feed_delivery_quality, feed_rejections
from indexes.models import (
    Case,
    CaseDocument,
    CaseProgress,
    Document,
    DocumentType,
    GrantedBenefit,
    Municipality,
    Payment,
    ProgressStatus,
)
from kle.models import Subject, Succession

# Seed 002 (Fredensborg): passive cases are reviewed every 6 months.
PASSIVE_REVIEW_DAYS = 183
DEFAULT_IDLE_DAYS = 90
# The patterns are shared and written for both databases (selectors/patterns.py).
PASSIVE_STATUS_REGEX = patterns.PASSIVE_STATUS
CLOSED_STATUS_REGEX = patterns.CLOSED_STATUS
PUNCTUATION_REGEX = patterns.PUNCTUATION
MULTILINE_REGEX = patterns.MULTILINE
NO_TITLE_REGEX = patterns.NO_TITLE


@dataclass(frozen=True)
class Check:
    key: str
    label: str
    model: type
    # Path from the model to the source system (for the per-system counts).
    source_system_path: str
    offending: Callable[..., QuerySet]


def _idle_days(municipality: Municipality) -> int:
    sheet = Sheet.objects.filter(municipality=municipality).only("idle_days").first()
    return sheet.idle_days if sheet else DEFAULT_IDLE_DAYS


def _cases(municipality: Municipality) -> QuerySet:
    return Case.objects.filter(municipality=municipality, retracted_at__isnull=True)


def _open_cases(municipality: Municipality) -> QuerySet:
    return _cases(municipality).exclude(status=ProgressStatus.CLOSED)


def abbreviations_regex() -> str | None:
    """A regex matching any listed abbreviation as a whole word (case-insensitive)."""
    words = [
        _abbreviation(text) for text in TitleAbbreviation.objects.values_list("text", flat=True)
    ]
    words = [w for w in words if w]
    return patterns.any_word(words) if words else None


def _abbreviation(text: str) -> str:
    """An abbreviation as a pattern: its letters, digits and dots ("f.eks." and "feks"
    are different entries)."""
    return patterns.literal("".join(ch for ch in text if ch.isalnum() or ch == "."))


def lead_words_regex() -> str | None:
    """A regex matching a title that starts with a listed lead word as a whole word
    (case-insensitive; leading white space allowed)."""
    words = [patterns.literal(w) for w in TitleLeadWord.objects.values_list("text", flat=True) if w]
    return patterns.first_word(words) if words else None


def _title_lacks_lead_word(field: str) -> Q | None:
    regex = lead_words_regex()
    return None if regex is None else ~Q(**{f"{field}__iregex": regex})


def _title_in_capitals(field: str) -> Q:
    """Seed 002: a title is a sentence, not capitals ("BREV TIL BORGER"): it has a letter
    (its lower case differs) and no small one (its upper case is itself). PostgreSQL's
    upper()/lower() follow the database's ctype, which knows Æ, Ø and Å (C.UTF-8 and
    da_DK.UTF-8 both do)."""
    return Q(**{field: Upper(field)}) & ~Q(**{field: Lower(field)})


def _title_breaks_rules(field: str) -> Q:
    q = (
        Q(**{f"{field}__regex": MULTILINE_REGEX})
        | Q(**{f"{field}__regex": PUNCTUATION_REGEX})
        | Q(**{f"{field}__regex": NO_TITLE_REGEX})
        | _title_in_capitals(field)
    )
    abbreviations = abbreviations_regex()
    if abbreviations:
        q |= Q(**{f"{field}__iregex": abbreviations})
    return q


def title_problems(*, title: str) -> list[str]:
    """Which title rules a title breaks (for the drill-down; the SQL above selects, with
    the same patterns)."""
    problems = []
    if re.search(MULTILINE_REGEX, title):
        problems.append(str(_("flere linjer")))
    if re.search(PUNCTUATION_REGEX, title):
        problems.append(str(_("tegnsætning")))
    if re.search(NO_TITLE_REGEX, title):
        problems.append(str(_("tom eller kun tal/CPR")))
    if title_in_capitals(title=title):
        problems.append(str(_("kun store bogstaver")))
    for text in TitleAbbreviation.objects.values_list("text", flat=True):
        word = _abbreviation(text)
        if word and re.search(patterns.any_word([word]), title, re.IGNORECASE):
            problems.append(str(_("forkortelse")) + f" '{text}'")
    lead_words = lead_words_regex()
    if lead_words and not re.search(lead_words, title, re.IGNORECASE):
        problems.append(str(_("intet indledende ord")))
    return problems


def title_in_capitals(*, title: str) -> bool:
    """Whether a title is written in capitals only (``_title_in_capitals`` in Python)."""
    return title == title.upper() and title != title.lower()


def cases_on_unknown_or_expired_kle(*, municipality: Municipality) -> QuerySet:
    """Cases whose KLE is not an emne, or is expired or moved (KLE Historisk)."""
    return _cases(municipality).filter(
        ~Q(kle_subject__level=Subject.Level.TOPIC)
        | Q(kle_subject__expired_on__isnull=False)
        | Q(kle_subject__moved_on__isnull=False)
    )


def cases_on_successor_not_in_sheet(*, municipality: Municipality) -> QuerySet:
    """Cases on a KLE number that succeeds one the sheet shows (``AfloestAf``), while the
    sheet has no row for the case's own number: a KLE move the sheet has not followed, so
    the citizen does not see the case (docs/kle.md, "Releases")."""
    predecessor_shown = Succession.objects.filter(successor=OuterRef("kle_subject")).filter(
        Exists(
            SheetRow.objects.filter(
                municipality=OuterRef(OuterRef("municipality")),
                kle_subject=OuterRef("predecessor"),
            )
        )
    )
    own_row = SheetRow.objects.filter(
        municipality=OuterRef("municipality"), kle_subject=OuterRef("kle_subject")
    )
    return _cases(municipality).filter(Exists(predecessor_shown)).exclude(Exists(own_row))


def documents_with_other_kle(*, municipality: Municipality) -> QuerySet:
    """Document links where the document's KLE differs from its case's."""
    return CaseDocument.objects.filter(
        case__municipality=municipality,
        case__retracted_at__isnull=True,
        document__retracted_at__isnull=True,
        document__kle_subject__isnull=False,
    ).exclude(document__kle_subject=F("case__kle_subject"))


def open_cases_without_caseworker(*, municipality: Municipality) -> QuerySet:
    """Open cases with no primary caseworker (seed 002: "Åbne sager har en aktiv medarbejder")."""
    return _open_cases(municipality).filter(primary_caseworker__regex=patterns.BLANK)


def idle_cases(*, municipality: Municipality, now: dt.datetime | None = None) -> QuerySet:
    """Open cases with no new document or status change for the municipality's idle days."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=_idle_days(municipality))
    recent_progress = CaseProgress.objects.filter(case=OuterRef("pk"), valid_from__gte=cutoff)
    recent_document = CaseDocument.objects.filter(case=OuterRef("pk")).filter(
        Q(document__received_at__gte=cutoff) | Q(document__letter_date__gte=cutoff.date())
    )
    return (
        _open_cases(municipality)
        .filter(created_on__lt=cutoff.date(), last_changed_at__lt=cutoff)
        .exclude(Exists(recent_progress))
        .exclude(Exists(recent_document))
    )


def passive_cases_not_reviewed(
    *, municipality: Municipality, now: dt.datetime | None = None
) -> QuerySet:
    """Passive cases (status text "P"/"Passiv") not changed for 6 months (seed 002)."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=PASSIVE_REVIEW_DAYS)
    return _open_cases(municipality).filter(
        source_status_text__iregex=PASSIVE_STATUS_REGEX, last_changed_at__lt=cutoff
    )


def closed_looking_cases_never_closed(
    *, municipality: Municipality, now: dt.datetime | None = None
) -> QuerySet:
    """Cases that look finished but are not Afsluttet: decided more than the idle days ago,
    or the source system's own status text says closed."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=_idle_days(municipality))
    decided_long_ago = CaseProgress.objects.filter(
        case=OuterRef("pk"),
        status=ProgressStatus.DECIDED,
        valid_to__isnull=True,
        valid_from__lt=cutoff,
    )
    return _open_cases(municipality).filter(
        Q(Exists(decided_long_ago)) | Q(source_status_text__iregex=CLOSED_STATUS_REGEX)
    )


def cases_breaking_title_rules(*, municipality: Municipality) -> QuerySet:
    """Case titles with more than one line, punctuation other than "?", a listed
    abbreviation, only capitals, or nothing but a number or CPR (seed 002)."""
    return _cases(municipality).filter(_title_breaks_rules("title"))


def documents_breaking_title_rules(*, municipality: Municipality) -> QuerySet:
    """Document titles breaking the same rules."""
    return Document.objects.filter(municipality=municipality, retracted_at__isnull=True).filter(
        _title_breaks_rules("title")
    )


def cases_without_lead_word(*, municipality: Municipality) -> QuerySet:
    """Case titles not starting with a listed lead word ("Afslag", "Bevilling", …; the
    operator's list ``TitleLeadWord``). Nothing is flagged while the list is empty."""
    q = _title_lacks_lead_word("title")
    return _cases(municipality).filter(q) if q is not None else Case.objects.none()


def documents_without_lead_word(*, municipality: Municipality) -> QuerySet:
    """Document titles not starting with a listed lead word."""
    q = _title_lacks_lead_word("title")
    if q is None:
        return Document.objects.none()
    return Document.objects.filter(municipality=municipality, retracted_at__isnull=True).filter(q)


def citizen_cases_without_cpr(*, municipality: Municipality) -> QuerySet:
    """Cases in an area the municipality shows to citizens, but with no CPR primary party."""
    row = SheetRow.objects.filter(
        municipality=OuterRef("municipality"), kle_subject=OuterRef("kle_subject")
    )
    return _cases(municipality).filter(party_cpr__isnull=True).filter(Exists(row))


# --- Seed 002's own checks (issue 16): sender/recipient, single case, complaints -----------

# Seed 002 (Fredensborg): "Indgående dokument (et dokument borgeren/virksomheden … sender
# ind)" and "Et udgående dokument (et dokument vi sender til borgeren/virksomheden …)"; and
# "Afsender/modtager": post journalised without a sender must have one added.
LETTER_PARTY_NEEDED = {
    DocumentType.INCOMING_LETTER: "sender",
    DocumentType.OUTGOING_LETTER: "recipient",
}
# Seed 002, "Enkeltsagsprincippet (samlesag)": one case per decision. A title that begins
# with one of these words names a case collecting several matters.
COLLECTIVE_TITLE_WORDS = ("Samlesag", "Diverse", "Div", "Generelt", "Forskelligt")
# KLE's handlingsfacet category K: "klagesager" (seed 000: "alle de sager, der skal
# behandles som klagesager (handlingsfacet K)"). Seed 002: a complaint is a new case.
COMPLAINT_FACET_CATEGORY = "K"


def _party_missing(prefix: str) -> Q:
    return Q(**{f"{prefix}_cpr__isnull": True}) & Q(**{f"{prefix}_cvr__isnull": True})


def letters_without_party(*, municipality: Municipality) -> QuerySet:
    """Incoming letters without a sender and outgoing letters without a recipient (seed 002,
    "Afsender/modtager"). Notes and other documents have neither by nature."""
    q = Q()
    for document_type, party in LETTER_PARTY_NEEDED.items():
        q |= Q(type=document_type) & _party_missing(party)
    return Document.objects.filter(municipality=municipality, retracted_at__isnull=True).filter(q)


def letter_party_problem(*, document: Document) -> str:
    """What a letter lacks ("afsender"/"modtager"), or "" (the drill-down's column)."""
    party = LETTER_PARTY_NEEDED.get(document.type)
    if party is None:
        return ""
    if getattr(document, f"{party}_cpr") or getattr(document, f"{party}_cvr"):
        return ""
    return str(_("mangler afsender") if party == "sender" else _("mangler modtager"))


def _other_citizen_on_a_document() -> Exists:
    """A live document of the case whose sender or recipient is a CPR other than the
    case's primary party: a matter of another citizen filed on this case."""
    q = Q()
    for party in ("sender", "recipient"):
        q |= Q(**{f"document__{party}_cpr__isnull": False}) & ~Q(
            **{f"document__{party}_cpr": OuterRef("party_cpr")}
        )
    return Exists(
        CaseDocument.objects.filter(
            case=OuterRef("pk"), document__retracted_at__isnull=True
        ).filter(q)
    )


def collective_cases(*, municipality: Municipality) -> QuerySet:
    """Cases breaking the single-case principle (seed 002, *samlesager*): the title begins
    with a collecting word ("Samlesag", "Diverse", "Div", "Generelt", "Forskelligt"), or a
    citizen's case holds a document sent by or to another citizen (CPR)."""
    words = [patterns.literal(w) for w in COLLECTIVE_TITLE_WORDS]
    return _cases(municipality).filter(
        Q(title__iregex=patterns.first_word(words))
        | (Q(party_cpr__isnull=False) & Q(_other_citizen_on_a_document()))
    )


def complaint_cases(*, municipality: Municipality) -> QuerySet:
    """Complaint cases: those on a handlingsfacet of category K (seed 000), for the
    municipality to follow; a complaint is its own case (seed 002)."""
    return _cases(municipality).filter(facet__category__code=COMPLAINT_FACET_CATEGORY)


def cases_on_unapproved_kle(*, municipality: Municipality) -> QuerySet:
    """Cases of a unit with an approved list (``ApprovedKleNumber``, the unit's own or of
    all the municipality's systems) on a KLE number not in that list (seed 002: each centre
    lists the KLE numbers it uses). A unit without a list is not judged."""
    approved = ApprovedKleNumber.objects.filter(
        municipality=OuterRef("municipality"), unit=OuterRef("responsible_unit")
    ).filter(Q(source_system__isnull=True) | Q(source_system=OuterRef("source_system")))
    return (
        _cases(municipality)
        .filter(Exists(approved))
        .exclude(Exists(approved.filter(kle_number=OuterRef("kle_subject__number"))))
    )


# --- CPR numbers in texts a citizen sees (issue 12.3) -------------------------------------
# The portal masks them (borgerblikket.citizen_safe); the source system should not send
# them. Ingestion accepts such records (refusing one would drop the citizen's case from
# the index) and they are flagged here, each text a citizen may see checked with the
# shared detector's SQL form (config/cpr_shape.py).

CASE_CPR_TEXTS = {
    "case_number": _("sagsnummer"),
    "title": _("titel"),
    "awaiting_party_reason": _("hvad kommunen venter på"),
}
DOCUMENT_CPR_TEXTS = {"title": _("titel")}
BENEFIT_CPR_TEXTS = {
    "name": _("navn"),
    "description": _("beskrivelse"),
    "message": _("besked"),
    "delivered_by": _("leveres af"),
    "granted_by": _("bevilget af"),
    "payment_plan__frequency": _("udbetalingsplanens hyppighed"),
    "payment_plan__payment_day": _("udbetalingsplanens udbetalingsdag"),
}


def _any_text_has_cpr(fields) -> Q:
    q = Q()
    for field in fields:
        q |= Q(**{f"{field}__regex": CPR_SHAPE_SQL})
    return q


def cases_with_cpr_in_text(*, municipality: Municipality) -> QuerySet:
    """Cases whose title or case number holds a CPR-shaped number (shown masked)."""
    return _cases(municipality).filter(_any_text_has_cpr(CASE_CPR_TEXTS))


def documents_with_cpr_in_title(*, municipality: Municipality) -> QuerySet:
    """Documents whose title holds a CPR-shaped number (shown masked)."""
    return Document.objects.filter(municipality=municipality, retracted_at__isnull=True).filter(
        _any_text_has_cpr(DOCUMENT_CPR_TEXTS)
    )


def benefits_with_cpr_in_text(*, municipality: Municipality) -> QuerySet:
    """Granted benefits with a CPR-shaped number in a text a citizen sees: name,
    description, message, delivered/granted by, the payment plan's texts, or the paying
    office of one of their payments (shown masked)."""
    payments = Payment.objects.filter(
        benefit=OuterRef("pk"), retracted_at__isnull=True, paying_office__regex=CPR_SHAPE_SQL
    )
    return (
        GrantedBenefit.objects.filter(
            grant__municipality=municipality, grant__retracted_at__isnull=True
        )
        .annotate(office_has_cpr=Exists(payments))
        .filter(_any_text_has_cpr(BENEFIT_CPR_TEXTS) | Q(office_has_cpr=True))
    )


# --- Benefits naming a case that is not there (issue 11.1) ----------------------------------
# A grant or benefit names its case by external id or case number (across the source
# systems of the municipality: indexes.services.references). While the named case is not
# in the index (not delivered, retracted, renumbered) or the number is held by several
# other systems (ambiguous), the citizen is shown nothing of the benefit and its payments
# (borgerblikket.selectors.visibility, rule 8): flagged here so the source system can fix it.


def _names_a_missing_case(prefix: str = "") -> Q:
    return Q(**{f"{prefix}related_case__isnull": True}) & (
        ~Q(**{f"{prefix}related_case_external_id": ""}) | ~Q(**{f"{prefix}related_case_number": ""})
    )


def benefits_naming_a_missing_case(*, municipality: Municipality) -> QuerySet:
    """Live granted benefits withheld from the citizen because a case they (or their grant)
    name is not in the index or is ambiguous."""
    return GrantedBenefit.objects.filter(
        grant__municipality=municipality, grant__retracted_at__isnull=True
    ).filter(_names_a_missing_case() | _names_a_missing_case("grant__"))


def texts_with_cpr(*, obj, texts: dict) -> list[str]:
    """The labels of ``texts`` (field paths of ``obj``) holding a CPR-shaped number."""
    found = []
    for path, label in texts.items():
        value = obj
        for part in path.split("__"):
            value = getattr(value, part, None) if value is not None else None
        if cpr_shape_in(value if isinstance(value, str) else None):
            found.append(str(label))
    return found


CHECKS: dict[str, Check] = {
    check.key: check
    for check in (
        Check(
            "kle",
            _("Sager på ukendt eller udgået KLE-nummer"),
            Case,
            "source_system",
            cases_on_unknown_or_expired_kle,
        ),
        Check(
            "kle_successor",
            _("Sager på et afløsende KLE-nummer, som arket ikke viser"),
            Case,
            "source_system",
            cases_on_successor_not_in_sheet,
        ),
        Check(
            "document_kle",
            _("Dokumenter med andet KLE-nummer end sagen"),
            CaseDocument,
            "case__source_system",
            documents_with_other_kle,
        ),
        Check(
            "no_caseworker",
            _("Åbne sager uden aktiv sagsbehandler"),
            Case,
            "source_system",
            open_cases_without_caseworker,
        ),
        Check("idle", _("Sager uden ny aktivitet i liggetiden"), Case, "source_system", idle_cases),
        Check(
            "passive",
            _("Passive sager ikke gennemgået i 6 måneder"),
            Case,
            "source_system",
            passive_cases_not_reviewed,
        ),
        Check(
            "not_closed",
            _("Færdige sager, der aldrig er afsluttet"),
            Case,
            "source_system",
            closed_looking_cases_never_closed,
        ),
        Check(
            "case_title",
            _("Sagstitler, der bryder titelreglerne"),
            Case,
            "source_system",
            cases_breaking_title_rules,
        ),
        Check(
            "document_title",
            _("Dokumenttitler, der bryder titelreglerne"),
            Document,
            "source_system",
            documents_breaking_title_rules,
        ),
        Check(
            "case_lead_word",
            _("Sagstitler uden indledende ord"),
            Case,
            "source_system",
            cases_without_lead_word,
        ),
        Check(
            "document_lead_word",
            _("Dokumenttitler uden indledende ord"),
            Document,
            "source_system",
            documents_without_lead_word,
        ),
        Check(
            "letter_party",
            _("Breve uden afsender eller modtager"),
            Document,
            "source_system",
            letters_without_party,
        ),
        Check(
            "collective",
            _("Samlesager (bryder enkeltsagsprincippet)"),
            Case,
            "source_system",
            collective_cases,
        ),
        Check(
            "complaint",
            _("Klagesager (handlingsfacet K)"),
            Case,
            "source_system",
            complaint_cases,
        ),
        Check(
            "unapproved_kle",
            _("Sager på et KLE-nummer, som enheden ikke har godkendt"),
            Case,
            "source_system",
            cases_on_unapproved_kle,
        ),
        Check(
            "no_cpr",
            _("Borgersager uden CPR som primær part"),
            Case,
            "source_system",
            citizen_cases_without_cpr,
        ),
        Check(
            "case_cpr_text",
            _("Sager med et CPR-nummer i titel, sagsnummer eller hvad kommunen venter på"),
            Case,
            "source_system",
            cases_with_cpr_in_text,
        ),
        Check(
            "document_cpr_text",
            _("Dokumenter med et CPR-nummer i titlen"),
            Document,
            "source_system",
            documents_with_cpr_in_title,
        ),
        Check(
            "benefit_cpr_text",
            _("Ydelser med et CPR-nummer i en tekst borgeren ser"),
            GrantedBenefit,
            "grant__source_system",
            benefits_with_cpr_in_text,
        ),
        Check(
            "benefit_case_missing",
            _("Ydelser, hvis sag ikke findes (vises ikke for borgeren)"),
            GrantedBenefit,
            "grant__source_system",
            benefits_naming_a_missing_case,
        ),
    )
}


@contextmanager
def _without_jit():
    """Run a report query without PostgreSQL's JIT.

    The correlated sheet-row probes make the planner's cost estimate large, so
    PostgreSQL JIT-compiles the query: measured on 10,000 cases that took 2.8 s of
    compilation for 50 ms of work (docs/performance.md). ``SET LOCAL`` ends with
    the transaction.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        yield


def check_offending(*, municipality: Municipality, key: str) -> QuerySet:
    """The records one check finds, sandbox installations left out (issue 18: their
    records are judged by the conformance report, never counted here)."""
    check = CHECKS[key]
    return check.offending(municipality=municipality).exclude(
        **{f"{check.source_system_path}__sandbox": True}
    )


def check_counts(*, municipality: Municipality, key: str) -> dict[int | None, int]:
    """{source system id: number of offending records} of one check (one query)."""
    check = CHECKS[key]
    rows = (
        check_offending(municipality=municipality, key=key)
        .order_by()
        .values(check.source_system_path)
        .annotate(n=Count("pk"))
    )
    with _without_jit():
        return {row[check.source_system_path]: row["n"] for row in rows}


# --- why indexed cases are invisible to citizens ---------------------------------------------

INVISIBILITY_REASONS = {
    "no_cpr": _("Ingen CPR som primær part"),
    "no_row": _("KLE-nummeret er ikke i arket"),
    "source_system": _("Arket viser kun et andet fagsystem"),
    "before_show_from": _("Oprettet før fradato"),
    "hidden": _("Visning undtaget for borger"),
}


def cases_with_visibility_reason(*, municipality: Municipality) -> QuerySet:
    """The municipality's indexed cases (not a sandbox's), each annotated ``reason``: the first rule of
    DOMAIN.md §5 it fails, in the rules' order, or "visible"."""
    rows = SheetRow.objects.filter(
        municipality=OuterRef("municipality"), kle_subject=OuterRef("kle_subject")
    )
    rows_of_system = rows.filter(
        Q(source_system__isnull=True) | Q(source_system=OuterRef("source_system"))
    )
    shown = exposure_q(
        municipality="municipality",
        kle_subject="kle_subject",
        source_system="source_system",
        created_on="created_on",
        is_open=~Q(status=ProgressStatus.CLOSED),
    )
    return (
        _cases(municipality)
        .filter(source_system__sandbox=False)
        .annotate(
            reason=CaseWhen(
                When(party_cpr__isnull=True, then=Value("no_cpr")),
                When(~Q(Exists(rows)), then=Value("no_row")),
                When(~Q(Exists(rows_of_system)), then=Value("source_system")),
                When(~shown, then=Value("before_show_from")),
                When(hidden_from_citizen=True, then=Value("hidden")),
                default=Value("visible"),
            )
        )
    )


def invisibility_counts(*, municipality: Municipality) -> dict[tuple[int, str], int]:
    """{(source system id, reason): cases} including "visible" (one query)."""
    rows = (
        cases_with_visibility_reason(municipality=municipality)
        .order_by()
        .values("source_system", "reason")
        .annotate(n=Count("pk"))
    )
    with _without_jit():
        return {(row["source_system"], row["reason"]): row["n"] for row in rows}


# --- deliveries ingestion rejected (never in the index; only in the poll log) -----------------

# Danish labels of the problem codes of ``indexes.services.errors.Problem`` that a feed's
# records are rejected with (docs/sources.md, "Faults and where they surface").
REJECTION_LABELS = {
    "unknown_kle": _("Ukendt KLE-nummer"),
    "kle_expired": _("Udgået KLE-nummer"),
    "kle_moved": _("Flyttet KLE-nummer"),
    "kle_not_topic": _("KLE-nummer er ikke et emne"),
    "not_single_line": _("Titel på flere linjer"),
    "unknown_case": _("Ukendt sag"),
    "unknown_grant": _("Ukendt bevilling"),
    "unknown_benefit": _("Ukendt ydelse"),
    "unknown_facet": _("Ukendt handlingsfacet"),
    "invalid_cpr": _("Ugyldigt CPR-nummer"),
}


def rejection_label(*, code: str) -> str:
    return str(REJECTION_LABELS.get(code, code))


# What a feed delivered, from the poll log (``FeedPoll``): a repeated delivery is
# "unchanged" and an overtaken update "stale" — neither leaves a trace in the index.
DELIVERY_COUNTS = {
    "received": _("Modtagne poster"),
    "applied": _("Skrevet i indekset"),
    "unchanged": _("Samme levering igen (uændret)"),
    "stale": _("Forældet opdatering (ældre end indekset)"),
    "rejected": _("Afvist"),
}


def delivery_counts(*, municipality: Municipality) -> dict:
    """{source system id: DeliveryQuality} of the municipality's feeds (poll log sums)."""
    return feed_delivery_quality(municipality=municipality)


def rejection_counts(*, municipality: Municipality) -> dict[tuple[int, str], int]:
    """{(source system id, problem code): rejected deliveries} of the municipality's feeds."""
    return {
        (system, code): n
        for system, delivery in feed_delivery_quality(municipality=municipality).items()
        for code, n in delivery.rejected_by_code.items()
    }


def rejected_deliveries(
    *, municipality: Municipality, code: str | None = None, source_system_id: int | None = None
) -> QuerySet:
    """The municipality's rejected deliveries (newest first), optionally of one code/system."""
    rejections = feed_rejections(municipality=municipality, code=code)
    if source_system_id is not None:
        rejections = rejections.filter(feed__source_system_id=source_system_id)
    return rejections


def cpr_scrub(*, text: str) -> str:
    """``text`` with any CPR-shaped number masked ``DDMMYY-****`` (config/cpr_shape.py): a
    source system may put a CPR in an external id, and a rejection stores what was
    delivered."""
    return cpr_shapes_mask(text or "")


# --- data quality over time (issue 16) ----------------------------------------------------

# Checks that give an overview rather than a fault: no target unless the operator sets one.
NO_DEFAULT_TARGET = frozenset({"complaint"})
TREND_DAYS = 90


def quality_target(*, key: str) -> int | None:
    """The target line of a check (``BORGERBLIKKET_QUALITY_TARGETS``; default 0, none for
    an overview such as complaint cases)."""
    targets = getattr(settings, "BORGERBLIKKET_QUALITY_TARGETS", {}) or {}
    if key in targets:
        value = targets[key]
        return None if value is None else int(value)
    return None if key in NO_DEFAULT_TARGET else 0


def quality_trend(
    *, municipality: Municipality, key: str, days: int = TREND_DAYS, today: dt.date | None = None
) -> list[tuple[dt.date, int]]:
    """(day, count) of the check's daily snapshots in the last ``days`` days, oldest first;
    a day without a snapshot is left out (not counted as 0)."""
    today = today or timezone.localdate()
    return list(
        QualitySnapshot.objects.filter(
            municipality=municipality,
            check_key=key,
            taken_on__gt=today - dt.timedelta(days=days),
            taken_on__lte=today,
        )
        .order_by("taken_on")
        .values_list("taken_on", "count")
    )
