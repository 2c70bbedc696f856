"""Cases (SF1470 Sag): the case handler of the ingestion engine.

A case carries its whole status history (``CaseProgress``, replaced as a whole:
SF1470 AM-01) and its related cases (``CaseRelation``), named by external id
within the same source system. A relation to a case not delivered yet is kept
with ``related`` NULL and resolved when that case arrives. A new, renumbered,
moved or re-delivered case tells ``indexes.services.references``, so grants and
benefits naming it (by external id or, across systems, by case number) follow.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import OuterRef, Subquery

from indexes.models import Case, CaseProgress, CaseRelation
from indexes.services import bulk, canonical, references, validation
from indexes.services.cases import case_status_derive
from indexes.services.ingestion.engine import KLE_RULE_FIELDS, RELATED_BULK, Batch, Handler
from kle.models import Facet


def _case_parties(data: dict) -> dict:
    """The model's columns of the secondary parties, the benefit recipient and the
    municipality of residence, in canonical form."""
    recipient = data.get("benefit_recipient") or {}
    return {
        "secondary_parties": canonical.case_parties(data.get("secondary_parties")),
        "benefit_recipient_cpr": recipient.get("cpr"),
        "benefit_recipient_cvr": recipient.get("cvr"),
        "benefit_recipient_name": recipient.get("name", ""),
        "residence_municipality_id": data.get("residence_municipality"),
    }


@dataclass
class KnownCases:
    """Cases validated earlier in a validate-only batch (nothing is written there)."""

    ids: set[str] = field(default_factory=set)
    numbers: dict[str, str] = field(default_factory=dict)  # case number -> external id


def known(batch: Batch) -> KnownCases:
    """The cases an earlier record of this validate-only batch delivered."""
    return batch.known.setdefault("case", KnownCases())


def _case_ids(source_system, external_ids: Iterable[str]) -> dict[str, int]:
    wanted = {e for e in external_ids if e}
    if not wanted:
        return {}
    return dict(
        Case.objects.filter(source_system=source_system, external_id__in=wanted).values_list(
            "external_id", "id"
        )
    )


class CaseHandler(Handler):
    kind = "case"
    model = Case
    rules = staticmethod(validation.case_problems)
    from_data = staticmethod(canonical.case_from_data)

    def lookups_load(self, batch, datas, lookups):
        codes = {data["facet"] for data in datas if "facet" in data}
        lookups.facets = {
            f.code: f for f in Facet.objects.filter(code__in=codes).only(*KLE_RULE_FIELDS, "code")
        }
        case_numbers = {data["case_number"] for data in datas if "case_number" in data}
        # The system's own live cases only (unique per source system, issue 12.4).
        lookups.case_numbers = dict(
            Case.objects.filter(
                source_system=batch.source_system,
                case_number__in=case_numbers,
                retracted_at__isnull=True,
            ).values_list("case_number", "external_id")
        )
        if not batch.write:
            # A case delivered earlier in the batch holds the number it was delivered with,
            # no longer the one stored (as after the real write of that earlier record).
            earlier = known(batch)
            lookups.case_numbers = {
                number: holder
                for number, holder in lookups.case_numbers.items()
                if holder not in earlier.ids
            }
            lookups.case_numbers.update(earlier.numbers)

    def accepted(self, lookups, data):
        # First come, first served within a batch (unique per source system).
        lookups.case_numbers[data["case_number"]] = data.get("external_id")

    def remember(self, batch, data):
        cases = known(batch)
        cases.ids.add(data["external_id"])
        cases.numbers = {n: e for n, e in cases.numbers.items() if e != data["external_id"]}
        cases.numbers[data["case_number"]] = data["external_id"]

    def retracted(self, source_system, instance):
        # What named it by number may now name another system's case (or nothing).
        references.cases_changed(
            [
                (
                    instance.pk,
                    source_system.pk,
                    instance.municipality_id,
                    instance.external_id,
                    instance.case_number,
                )
            ]
        )

    def load_existing(self, source_system, external_ids, *, lock=True):
        cases = list(
            self.locked(source_system, external_ids, lock=lock)
            .select_related("kle_subject", "facet")
            .defer(*RELATED_BULK)
        )
        ids = [c.pk for c in cases]
        progress = defaultdict(list)
        relations = defaultdict(list)
        if ids:
            for case_id, status, start, end in CaseProgress.objects.filter(
                case_id__in=ids
            ).values_list("case_id", "status", "valid_from", "valid_to"):
                progress[case_id].append((status, start, end))
            for case_id, related in CaseRelation.objects.filter(case_id__in=ids).values_list(
                "case_id", "related_external_id"
            ):
                relations[case_id].append(related)
        return {
            c.external_id: (
                c,
                canonical.case_from_instance(
                    c, progress=progress[c.pk], related_external_ids=relations[c.pk]
                ),
            )
            for c in cases
        }

    def write(self, batch, decisions, lookups):
        received_at = batch.received_at
        # The last change a citizen notices (case_status_derive): a wait this delivery ends
        # is dated by its source timestamp; an update that leaves the history as it was
        # keeps a later last change (an earlier wait's end is not in the data).
        updates = {d.delivery.external_id: d for d in decisions if d.action == "update"}

        def fields_of(data):
            party = data["party"] or {}
            update = updates.get(data["external_id"])
            ended = (
                update and update.existing.awaiting_party_since and not data["awaiting_party_since"]
            )
            status, last_changed_at = case_status_derive(
                progress=data["progress"],
                at=received_at,
                awaiting_party_since=data["awaiting_party_since"],
                wait_ended_at=data["source_timestamp"] if ended else None,
            )
            if update and "progress" not in update.diff:
                last_changed_at = max(last_changed_at, update.existing.last_changed_at)
            return {
                "municipality_id": data["municipality"],
                "case_number": data["case_number"],
                "title": data["title"],
                "alternative_title": data["alternative_title"],
                "description": data["description"],
                "source_status_text": data["source_status_text"],
                "sensitivity": data["sensitivity"],
                "hidden_from_citizen": data["hidden_from_citizen"],
                "kle_subject_id": lookups.subjects[data["kle_number"]].pk,
                "facet_id": lookups.facets[data["facet"]].pk,
                "responsible_unit": data["responsible_unit"],
                "primary_caseworker": data["primary_caseworker"],
                "party_cpr": party.get("cpr"),
                "party_cvr": party.get("cvr"),
                **_case_parties(data),
                "decision_class": data["decision_class"],
                "created_on": data["created_on"],
                "awaiting_party_since": data["awaiting_party_since"],
                "awaiting_party_due": data["awaiting_party_due"],
                "awaiting_party_reason": data["awaiting_party_reason"],
                "status": status,
                "last_changed_at": last_changed_at,
            }

        batch.save_main(self, decisions, fields_of)
        ss = batch.source_system
        # Children are replaced as a whole: an import carries the whole history (SF1470 AM-01).
        new_progress = [d for d in decisions if d.action == "create" or "progress" in d.diff]
        new_relations = [d for d in decisions if d.action == "create" or "related_cases" in d.diff]
        bulk.rows_delete(
            CaseProgress, "case_id", [d.existing.pk for d in new_progress if d.action == "update"]
        )
        bulk.rows_insert(
            CaseProgress,
            [
                {
                    "case_id": d.existing.pk,
                    "status": p["status"],
                    "valid_from": p["from"],
                    "valid_to": p["to"],
                }
                for d in new_progress
                for p in d.delivery.data["progress"]
            ],
        )
        bulk.rows_delete(
            CaseRelation, "case_id", [d.existing.pk for d in new_relations if d.action == "update"]
        )
        wanted = {e for d in new_relations for e in d.canonical["related_cases"]}
        ids = _case_ids(ss, wanted)
        bulk.rows_insert(
            CaseRelation,
            [
                {
                    "case_id": d.existing.pk,
                    "related_id": ids.get(external_id),
                    "related_external_id": external_id,
                }
                for d in new_relations
                for external_id in d.canonical["related_cases"]
            ],
        )
        created = [d.delivery.external_id for d in decisions if d.action == "create"]
        if created:
            _pending_relations_resolve(ss, created)
        # Grants and benefits naming these cases (by external id or, across source systems,
        # by case number) follow a new case, a new number or municipality, a comeback.
        moved = []
        for d in decisions:
            if d.action != "create" and not {"case_number", "municipality", "retracted_at"} & set(
                d.diff
            ):
                continue
            case = d.existing
            numbers = {case.case_number, *(d.diff.get("case_number") or [])[:1]} - {None}
            places = {case.municipality_id, *(d.diff.get("municipality") or [])[:1]} - {None}
            moved += [(case.pk, ss.pk, m, case.external_id, n) for m in places for n in numbers]
        references.cases_changed(moved)


_PENDING_SQL = """
SELECT
  EXISTS (SELECT 1 FROM indexes_caserelation r JOIN indexes_case c ON c.id = r.case_id
          WHERE r.related_id IS NULL AND r.related_external_id = ANY(%(ids)s)
            AND c.source_system_id = %(system)s)
"""


def _pending_relations_resolve(source_system, external_ids: list[str]) -> None:
    """Point case relations that waited for these (new) cases at them.

    One indexed look-up first (usually nothing waits; raw SQL with one array
    parameter), then an UPDATE only when something does wait. (Grants and benefits
    naming a case: ``indexes.services.references``.)
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_PENDING_SQL, {"ids": list(external_ids), "system": source_system.pk})
            (relations,) = cursor.fetchone()
    else:  # SQLite (``make run`` without PostgreSQL): just run the update
        relations = True
    if relations:
        CaseRelation.objects.filter(
            related__isnull=True,
            related_external_id__in=external_ids,
            case__source_system=source_system,
        ).update(
            related=Subquery(
                Case.objects.filter(
                    source_system=source_system, external_id=OuterRef("related_external_id")
                ).values("id")[:1]
            )
        )
