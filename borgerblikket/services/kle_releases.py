"""KLE releases in the sheets: the impact of each release and moving a row to its successors.

After each emneplan import (``kle_release_sync`` runs the scheduled sync and then
this) every municipality whose sheet has rows on numbers the release expired or
moved gets a ``KleImpactReport``: one ``KleImpactItem`` per such row, with the
successors KLE names (``Historisk/Flyttet/AfloestAf``) and the active emner the
row can move to. ``sheet_row_move`` moves a row in one step; every row it adds or
removes is a ``SheetChange`` (via "KLE-flytning"), so the sheet's history shows
it and any step can be reverted there.

No citizen loses a case by a move: the successors' rows copy the old row's
columns (fradato, fagsystem, contact, links), and the old row is removed only
when no indexed case of the municipality lies on the old number (or when the
admin says so on the preview): cases keep their number until their source system
reclassifies them.
"""

import logging
import smtplib
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from borgerblikket.models import (
    KleImpactItem,
    KleImpactReport,
    KleRelease,
    Membership,
    SheetChange,
    SheetRow,
)
from borgerblikket.selectors.scoping import kle_number_in_areas
from borgerblikket.services.sheets import (
    ROW_FIELDS,
    SheetError,
    sheet_row_delete,
    sheet_row_save,
    sheet_row_snapshot,
)
from indexes.models import Case, EventType
from indexes.services.events import EventSpec, events_emit
from kle.models import Publication, Subject
from kle.services.sync import SyncReport, kle_sync

logger = logging.getLogger("borgerblikket.kle_releases")

# A chain of moves (A → B, later B → C) is followed this far when proposing successors.
MAX_SUCCESSION_DEPTH = 10


# --- the release and its impact ---------------------------------------------------------------


def kle_release_sync(*, timeout: float | None = None) -> tuple[SyncReport, list[KleRelease]]:
    """Run the scheduled KLE sync, then build the impact of every emneplan publication that
    has none yet (this run's, and any ``import_kle`` brought in by hand)."""
    report = kle_sync(timeout=timeout)
    return report, kle_releases_build_pending()


def kle_releases_build_pending() -> list[KleRelease]:
    """Build the impact of each emneplan publication without a ``KleRelease``, oldest first."""
    built = set(KleRelease.objects.values_list("publication_id", flat=True))
    pending = Publication.objects.filter(kind=Publication.Kind.SUBJECT_PLAN).exclude(pk__in=built)
    return [
        kle_release_build(publication=publication)
        for publication in pending.order_by("imported_at", "pk")
    ]


@transaction.atomic
def kle_release_build(*, publication: Publication) -> KleRelease:
    """The impact of one emneplan publication on every sheet (idempotent: built once)."""
    release, created = KleRelease.objects.select_for_update().get_or_create(
        publication=publication,
        defaults={
            "expired_count": len(publication.expired_numbers),
            "moved_count": len(publication.moved_numbers),
        },
    )
    if not created:
        return release
    numbers = [*publication.expired_numbers, *publication.moved_numbers]
    subjects = {s.number: s for s in Subject.objects.filter(number__in=numbers)}
    rows = (
        SheetRow.objects.filter(kle_subject__number__in=numbers)
        .select_related("kle_subject", "municipality")
        .order_by("municipality_id", "kle_subject__number")
    )
    cases = _case_counts(rows)
    reports: dict[str, KleImpactReport] = {}
    items = []
    for row in rows:
        subject = subjects[row.kle_subject.number]
        report = reports.get(row.municipality_id)
        if report is None:
            report = KleImpactReport.objects.create(release=release, municipality=row.municipality)
            reports[row.municipality_id] = report
        moved = subject.moved_on is not None
        items.append(
            KleImpactItem(
                report=report,
                sheet_row=row,
                kle_number=subject.number,
                kle_title=subject.title,
                change=KleImpactItem.Change.MOVED if moved else KleImpactItem.Change.EXPIRED,
                changed_on=subject.moved_on if moved else subject.expired_on,
                successor_numbers=list(subject.successor_numbers),
                proposed_numbers=[s.number for s in successors_proposed(subject=subject)],
                case_count=cases.get((row.municipality_id, row.kle_subject_id), 0),
            )
        )
    KleImpactItem.objects.bulk_create(items)
    release.row_count = len(items)
    release.save(update_fields=["row_count"])
    # Events back (issue 18): every subscriber learns of the new KLE release.
    events_emit(
        events=[
            EventSpec(
                type=EventType.KLE_CHANGED,
                subject=f"kle/{publication.pk}",
                ordering_key="kle",
                data={
                    "publication": publication.pk,
                    "expired_numbers": list(publication.expired_numbers),
                    "moved_numbers": list(publication.moved_numbers),
                    "affected_sheet_rows": len(items),
                },
            )
        ]
    )
    for report in reports.values():
        transaction.on_commit(lambda report=report: kle_impact_report_notify(report=report))
    return release


def _case_counts(rows) -> dict[tuple[str, int], int]:
    """{(municipality code, KLE subject id): indexed, not retracted cases} for the rows."""
    pairs = {(row.municipality_id, row.kle_subject_id) for row in rows}
    if not pairs:
        return {}
    counts = (
        Case.objects.filter(
            retracted_at__isnull=True,
            municipality_id__in={m for m, _ in pairs},
            kle_subject_id__in={s for _, s in pairs},
        )
        .order_by()
        .values("municipality_id", "kle_subject_id")
        .annotate(n=Count("pk"))
    )
    return {(c["municipality_id"], c["kle_subject_id"]): c["n"] for c in counts}


def successors_proposed(*, subject: Subject) -> list[Subject]:
    """The active emner a row on ``subject`` can move to: its successors, a successor that
    later moved replaced by its own. A successor that is a gruppe (KLE moves some emner to
    a gruppe) or that expired is not proposed: the admin chooses an emne by hand."""
    found: list[Subject] = []
    seen = {subject.pk}
    frontier = [subject]
    for _depth in range(MAX_SUCCESSION_DEPTH):
        following = []
        for current in frontier:
            for successor in current.successors.order_by("number"):
                if successor.pk in seen:
                    continue
                seen.add(successor.pk)
                if successor.moved_on is not None:
                    following.append(successor)
                elif successor.level == Subject.Level.TOPIC and successor.expired_on is None:
                    found.append(successor)
        if not following:
            break
        frontier = following
    return found


def kle_impact_report_notify(*, report: KleImpactReport) -> None:
    """Tell the municipality's admins that a KLE release changed their sheet.

    In the admin (``borgerblikket.selectors.kle_releases``: a message on the admin's start
    page and the sheet's list), and by e-mail to each active member with an address who
    may move the report's rows: lead and admin, and an area admin with a row of their
    areas in the report. The mail names the release, the municipality and the number of
    rows, with a link to the report; never a citizen or a case. Sent once, after the
    report is committed; a mail server that does not answer is logged, not retried (the
    admin's message stays until every row is handled).
    """
    numbers = list(report.items.values_list("kle_number", flat=True))
    logger.info(
        "KLE impact report: %s, municipality %s, %d rows on expired or moved numbers",
        report.release,
        report.municipality_id,
        len(numbers),
    )
    recipients = sorted(
        {
            member.user.email
            for member in Membership.objects.filter(
                municipality_id=report.municipality_id,
                user__is_active=True,
                role__in=(Membership.Role.LEAD, Membership.Role.ADMIN, Membership.Role.AREA),
            )
            .exclude(user__email="")
            .select_related("user")
            .prefetch_related("areas")
            if member.role != Membership.Role.AREA
            or any(
                kle_number_in_areas(number=n, areas=tuple(a.number for a in member.areas.all()))
                for n in numbers
            )
        }
    )
    if not recipients:
        return
    link = settings.OVERBLIK_PUBLIC_URL + reverse(
        "admin:borgerblikket_kleimpactreport_change", args=[report.pk]
    )
    subject = _("KLE-ændringer berører %(municipality)s Kommunes konfigurationsark") % {
        "municipality": report.municipality.name
    }
    body = _(
        "KL har udgivet en ny version af KLE (%(release)s). %(count)d rækker i "
        "%(municipality)s Kommunes konfigurationsark står på KLE-numre, der er udgået eller "
        "flyttet. Se rækkerne og flyt dem til deres afløsere her:\n\n%(link)s\n"
    ) % {
        "release": report.release,
        "count": len(numbers),
        "municipality": report.municipality.name,
        "link": link,
    }
    try:
        # One message per recipient: no admin sees another's address.
        with get_connection() as connection:
            for address in recipients:
                EmailMessage(subject, body, to=[address], connection=connection).send()
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning(
            "KLE impact report %s: the mail to %d admins was not sent (%s)",
            report.pk,
            len(recipients),
            type(exc).__name__,
        )


# --- moving a row to its successors ---------------------------------------------------------


@dataclass
class PlannedRow:
    """One row of the sheet as it will look after the move."""

    kle_number: str
    name: str
    state: str  # "added", "removed", "kept" (the moved row, kept), "present", "unchanged"
    show_from: object = None
    source_system: str = ""
    contact_department: str = ""


@dataclass
class MovePlan:
    """What ``sheet_row_move`` will do, for the preview; nothing is written."""

    item: KleImpactItem
    row: SheetRow
    successors: list[Subject]
    already_present: list[str]
    case_count: int  # indexed cases on the old number now
    remove_old: bool
    sheet_after: list[PlannedRow] = field(default_factory=list)

    @property
    def added(self) -> list[str]:
        return [s.number for s in self.successors if s.number not in self.already_present]


class MoveError(SheetError):
    """The row cannot be moved (already moved, removed, or no emne to move it to)."""


def _movable(item: KleImpactItem) -> tuple[SheetRow, list[Subject]]:
    if item.resolution:
        raise MoveError(
            _("KLE-nummer %(number)s er allerede flyttet") % {"number": item.kle_number}
        )
    row = (
        SheetRow.objects.select_related("kle_subject", "source_system", "municipality")
        .filter(pk=item.sheet_row_id, municipality_id=item.report.municipality_id)
        .first()
    )
    if row is None:
        raise MoveError(
            _("Rækken for KLE-nummer %(number)s findes ikke længere i arket")
            % {"number": item.kle_number}
        )
    successors = successors_proposed(subject=row.kle_subject)
    if not successors:
        raise MoveError(
            _(
                "KLE-nummer %(number)s har ingen afløser, som er et aktivt emne; "
                "vælg selv et nyt KLE-nummer i arket"
            )
            % {"number": item.kle_number}
        )
    return row, successors


def sheet_row_move_plan(*, item: KleImpactItem, remove_old: bool | None = None) -> MovePlan:
    """The sheet after moving ``item``'s row to its successors (a preview; raises MoveError).

    ``remove_old`` defaults to: remove the old row only when no indexed case of the
    municipality lies on the old number (else its citizens would lose those cases).
    """
    row, successors = _movable(item)
    municipality = row.municipality
    case_count = Case.objects.filter(
        municipality=municipality, kle_subject=row.kle_subject, retracted_at__isnull=True
    ).count()
    if remove_old is None:
        remove_old = case_count == 0
    sheet = list(
        SheetRow.objects.filter(municipality=municipality)
        .select_related("kle_subject", "source_system")
        .order_by("kle_subject__number")
    )
    present = {r.kle_subject.number for r in sheet}
    already = [s.number for s in successors if s.number in present]
    plan = MovePlan(
        item=item,
        row=row,
        successors=successors,
        already_present=already,
        case_count=case_count,
        remove_old=remove_old,
    )
    planned = []
    for other in sheet:
        if other.pk == row.pk:
            state = "removed" if remove_old else "kept"
        elif other.kle_subject.number in already:
            state = "present"
        else:
            state = "unchanged"
        planned.append(_planned(other, other.kle_subject, state))
    for successor in successors:
        if successor.number not in already:
            planned.append(_planned(row, successor, "added"))
    plan.sheet_after = sorted(planned, key=lambda p: (p.kle_number, p.state != "removed"))
    return plan


def _planned(row: SheetRow, subject: Subject, state: str) -> PlannedRow:
    name = subject.title if state == "added" else (row.display_name or subject.title)
    return PlannedRow(
        kle_number=subject.number,
        name=name,
        state=state,
        show_from=row.show_from,
        source_system=row.source_system.name if row.source_system_id else "",
        contact_department=row.contact_department,
    )


@transaction.atomic
def sheet_row_move(
    *, item: KleImpactItem, remove_old: bool | None = None, user
) -> list[SheetChange]:
    """Move ``item``'s row to its successor(s) in one step; return the sheet changes made.

    Each successor the sheet lacks gets a row with the old row's columns (fradato,
    fagsystem, contact, links, self-service) and KLE's own title; a successor already on
    the sheet is left as it is. The old row is removed as ``sheet_row_move_plan`` says
    (or as ``remove_old`` says). Every write is a ``SheetChange`` via "KLE-flytning".
    """
    item = KleImpactItem.objects.select_for_update().select_related("report").get(pk=item.pk)
    plan = sheet_row_move_plan(item=item, remove_old=remove_old)
    row, municipality = plan.row, plan.row.municipality
    snapshot = sheet_row_snapshot(row=row)
    values = {name: getattr(row, name) for name in ROW_FIELDS}
    values["display_name"] = ""  # the successor's own KLE title
    changes = []
    for successor in plan.successors:
        if successor.number in plan.already_present:
            continue
        _row, change = sheet_row_save(
            municipality=municipality,
            kle_subject=successor,
            values=values,
            user=user,
            via=SheetChange.Via.KLE_MOVE,
        )
        if change is not None:
            changes.append(change)
    if plan.remove_old:
        changes.append(sheet_row_delete(row=row, user=user, via=SheetChange.Via.KLE_MOVE))
    item.resolution = KleImpactItem.Resolution.MOVED
    item.resolved_at = timezone.now()
    item.resolved_by = user if getattr(user, "pk", None) else None
    item.save(update_fields=["resolution", "resolved_at", "resolved_by"])
    logger.info(
        "KLE move: municipality %s, %s → %s (old row %s)",
        municipality.code,
        snapshot["kle_number"],
        ", ".join(s.number for s in plan.successors),
        "removed" if plan.remove_old else "kept",
    )
    return changes
