"""Notifications through the one door: whose an event is, and whether they may see it.

The portal's dispatcher (``overblik.notifications``) asks ``event_parties`` whose
record an outbox event names (the CPR number of its primary party, read from the
index, held in memory only), and the sender asks ``record_visible_to_citizen``
right before a message goes out: a record the rules hide (rules 1-8,
``visibility``) says nothing, not even that something changed.
"""

import datetime as dt
from collections import defaultdict

from django.db.models.functions import Coalesce

from borgerblikket.selectors.visibility import (
    case_visible_to_citizen,
    cpr_normalise,
    documents_visible_for_case,
    payments_visible_to_citizen,
)
from indexes.models import Case, CaseDocument, Payment, ProgressStatus


def event_parties(records: list[tuple[str, int]]) -> dict[tuple[str, int], set[str]]:
    """The CPR numbers of the primary parties of ``(record_type, record_id)`` pairs.

    A case's party; a document's cases' parties; a payment's own party or its grant's.
    Records without a CPR party (or gone) are left out. One query per kind.
    """
    ids: dict[str, set[int]] = defaultdict(set)
    for record_type, record_id in records:
        ids[record_type].add(record_id)
    parties: dict[tuple[str, int], set[str]] = defaultdict(set)
    if ids.get("case"):
        rows = Case.objects.filter(pk__in=ids["case"], party_cpr__isnull=False)
        for pk, cpr in rows.values_list("pk", "party_cpr"):
            parties["case", pk].add(cpr)
    if ids.get("document"):
        rows = CaseDocument.objects.filter(
            document_id__in=ids["document"], case__party_cpr__isnull=False
        )
        for pk, cpr in rows.values_list("document_id", "case__party_cpr"):
            parties["document", pk].add(cpr)
    if ids.get("payment"):
        rows = Payment.objects.filter(pk__in=ids["payment"]).annotate(
            cpr=Coalesce("party_cpr", "benefit__grant__party_cpr")
        )
        for pk, cpr in rows.values_list("pk", "cpr"):
            if cpr:
                parties["payment", pk].add(cpr)
    return dict(parties)


def record_visible_to_citizen(*, cpr: str | None, record_type: str, record_id: int) -> bool:
    """Whether the citizen may see the record an event names (the visibility rule)."""
    cpr = cpr_normalise(cpr=cpr)
    if cpr is None:
        return False
    if record_type == "case":
        return case_visible_to_citizen(cpr=cpr, case_id=record_id) is not None
    if record_type == "document":
        case_ids = CaseDocument.objects.filter(document_id=record_id).values_list(
            "case_id", flat=True
        )
        return any(
            document.id == record_id
            for case_id in case_ids
            for document in documents_visible_for_case(cpr=cpr, case=case_id)
        )
    if record_type == "payment":
        return payments_visible_to_citizen(cpr=cpr).filter(pk=record_id).exists()
    return False


def cases_due_for_reminder(*, on: dt.date) -> list[tuple[int, dt.date]]:
    """Open cases whose "Afventer dig" deadline is ``on``: ``(case id, due date)``.

    Whose they are and whether they may be seen is decided as for any event.
    """
    return list(
        Case.objects.filter(
            awaiting_party_due=on,
            awaiting_party_since__isnull=False,
            party_cpr__isnull=False,
            retracted_at__isnull=True,
        )
        .exclude(status=ProgressStatus.CLOSED)
        .values_list("pk", "awaiting_party_due")
    )
