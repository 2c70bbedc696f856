"""Documents (SF1470 Dokument): the document handler of the ingestion engine.

A document names its cases (``CaseDocument``, with a role) by external id within
the same source system; they must exist already or come earlier in the same batch
(else ``unknown_case``). The links are replaced as a whole when they change.
"""

from __future__ import annotations

from collections import defaultdict

from indexes.models import Case, CaseDocument, Document
from indexes.services import bulk, canonical, validation
from indexes.services.ingestion import cases
from indexes.services.ingestion.engine import RELATED_BULK, Handler


def _party_fields(prefix: str, party: dict | None) -> dict:
    """The model's columns of a sender or recipient in canonical form (or None)."""
    party = party or {}
    return {
        f"{prefix}_cpr": party.get("cpr"),
        f"{prefix}_cvr": party.get("cvr"),
        f"{prefix}_name": party.get("name", ""),
    }


class DocumentHandler(Handler):
    kind = "document"
    model = Document
    rules = staticmethod(validation.document_problems)
    from_data = staticmethod(canonical.document_from_data)

    def lookups_load(self, batch, datas, lookups):
        wanted = {
            link.get("case_external_id")
            for data in datas
            for link in data.get("cases") or []
            if isinstance(link, dict)
        }
        lookups.cases = dict(
            Case.objects.filter(
                source_system=batch.source_system, external_id__in=wanted, retracted_at__isnull=True
            ).values_list("external_id", "id")
        )
        for external_id in cases.known(batch).ids & wanted:
            lookups.cases.setdefault(external_id, 0)

    def load_existing(self, source_system, external_ids, *, lock=True):
        documents = list(
            self.locked(source_system, external_ids, lock=lock)
            .select_related("kle_subject")
            .defer(*RELATED_BULK[:2])
        )
        links = defaultdict(list)
        if documents:
            for document_id, case_id, role in CaseDocument.objects.filter(
                document_id__in=[d.pk for d in documents]
            ).values_list("document_id", "case__external_id", "role"):
                links[document_id].append((case_id, role))
        return {
            d.external_id: (d, canonical.document_from_instance(d, links=links[d.pk]))
            for d in documents
        }

    def write(self, batch, decisions, lookups):
        def fields_of(data):
            number = data["kle_number"]
            return {
                "municipality_id": data["municipality"],
                "title": data["title"],
                "letter_date": data["letter_date"],
                "type": data["type"],
                "status": data["status"],
                "sensitivity": data["sensitivity"],
                "hidden_from_citizen": data["hidden_from_citizen"],
                "kle_subject_id": lookups.subjects[number].pk if number else None,
                **_party_fields("sender", data["sender"]),
                **_party_fields("recipient", data["recipient"]),
            }

        batch.save_main(self, decisions, fields_of)
        changed = [d for d in decisions if d.action == "create" or "cases" in d.diff]
        bulk.rows_delete(
            CaseDocument, "document_id", [d.existing.pk for d in changed if d.action == "update"]
        )
        bulk.rows_insert(
            CaseDocument,
            [
                {
                    "case_id": lookups.cases[link["case_external_id"]],
                    "document_id": d.existing.pk,
                    "role": link["role"],
                }
                for d in changed
                for link in d.delivery.data["cases"]
            ],
        )
