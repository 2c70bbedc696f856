"""Grants and their granted benefits (the benefit index): the grant handler.

A grant carries its benefits (``GrantedBenefit``, each with an optional
``PaymentPlan``), matched by external id so a kept benefit keeps its row and its
payments. A grant or benefit may name a case by external id or, across source
systems, by case number; ``indexes.services.references`` resolves those, also
after commit. The grant's party is kept in step on its payments.
"""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace
from typing import Any

from indexes.models import Grant, GrantedBenefit, Payment, PaymentPlan
from indexes.services import bulk, canonical, references, validation
from indexes.services.ingestion.engine import RELATED_BULK, Batch, Handler


def known(batch: Batch) -> dict[str, tuple[Any, dict[str, Any]]]:
    """Grants validated earlier in a validate-only batch, as ``Lookups.grants`` holds them."""
    return batch.known.setdefault("grant", {})


class GrantHandler(Handler):
    kind = "grant"
    model = Grant
    rules = staticmethod(validation.grant_problems)
    from_data = staticmethod(canonical.grant_from_data)

    def kle_numbers(self, data):
        # A grant has no KLE number of its own; each benefit has one.
        return {
            b["kle_number"]
            for b in data.get("benefits") or []
            if isinstance(b, dict) and b.get("kle_number")
        }

    def lookups_load(self, batch, datas, lookups):
        ids = {data["external_id"] for data in datas if "external_id" in data}
        paid = defaultdict(set)
        for grant_id, benefit_id in (
            Payment.objects.filter(
                benefit__grant__source_system=batch.source_system,
                benefit__grant__external_id__in=ids,
            )
            .values_list("benefit__grant__external_id", "benefit__external_id")
            .distinct()
        ):
            paid[grant_id].add(benefit_id)
        for grant_id, benefit_id in batch.known.get("payment", ()):
            if grant_id in ids:
                paid[grant_id].add(benefit_id)
        lookups.benefits_with_payments = dict(paid)

    def remember(self, batch, data):
        party = data["party"] or {}
        benefits = {
            b["external_id"]: SimpleNamespace(external_id=b["external_id"], kind=b["kind"], id=0)
            for b in data["benefits"]
        }
        known(batch)[data["external_id"]] = (
            SimpleNamespace(party_cpr=party.get("cpr"), external_id=data["external_id"]),
            benefits,
        )

    def load_existing(self, source_system, external_ids, *, lock=True):
        grants = list(self.locked(source_system, external_ids, lock=lock))
        benefits = defaultdict(list)
        if grants:
            for benefit in (
                GrantedBenefit.objects.filter(grant_id__in=[g.pk for g in grants])
                .select_related("kle_subject", "payment_plan")
                .defer(*RELATED_BULK[:2])
            ):
                benefits[benefit.grant_id].append(benefit)
        for grant in grants:
            grant.loaded_benefits = benefits[grant.pk]
        return {
            g.external_id: (
                g,
                canonical.grant_from_instance(
                    g,
                    benefits=[(b, getattr(b, "payment_plan", None)) for b in benefits[g.pk]],
                ),
            )
            for g in grants
        }

    def write(self, batch, decisions, lookups):
        ss = batch.source_system

        def reference(data, municipality):
            return references.Reference(
                ss.pk, municipality, data["related_case"] or "", data["related_case_number"] or ""
            )

        resolver = references.Resolver(
            reference(x, d.delivery.data["municipality"])
            for d in decisions
            for x in (d.delivery.data, *d.delivery.data["benefits"])
        )
        party_before = {
            d.existing.pk: d.existing.party_cpr for d in decisions if d.action == "update"
        }

        def fields_of(data):
            party = data["party"] or {}
            recipient = data.get("recipient") or {}
            return {
                "municipality_id": data["municipality"],
                "case_number": data["case_number"],
                "party_cpr": party.get("cpr"),
                "recipient_cpr": recipient.get("cpr"),
                "recipient_cvr": recipient.get("cvr"),
                "recipient_name": recipient.get("name", ""),
                "start_on": data["start_on"],
                "end_on": data["end_on"],
                "reason": data["reason"],
                "sensitivity": data["sensitivity"],
                "status": data["status"],
                "related_case_id": resolver.case_for(reference(data, data["municipality"])),
                "related_case_external_id": data["related_case"] or "",
                "related_case_number": data["related_case_number"] or "",
            }

        batch.save_main(self, decisions, fields_of)

        def benefit_values(benefit, municipality):
            return {
                "name": benefit["name"],
                "kind": benefit["kind"],
                "kle_subject_id": lookups.subjects[benefit["kle_number"]].pk,
                "start_on": benefit["start_on"],
                "end_on": benefit["end_on"],
                "status": benefit["status"],
                "repayable": benefit["repayable"],
                "description": benefit["description"],
                "message": benefit["message"],
                "delivered_by": benefit["delivered_by"],
                "granted_by": benefit["granted_by"],
                "related_case_id": resolver.case_for(reference(benefit, municipality)),
                "related_case_external_id": benefit["related_case"] or "",
                "related_case_number": benefit["related_case_number"] or "",
            }

        # Benefits are matched by external id: a kept benefit keeps its row (its
        # payments point at it), a new one is inserted, a dropped one deleted.
        creates, updates, removed, kept, plans = [], [], [], [], []
        for decision in decisions:
            grant = decision.existing
            if decision.action == "update" and "benefits" not in decision.diff:
                continue
            current = {
                b.external_id: b.pk
                for b in (grant.loaded_benefits if decision.action == "update" else [])
            }
            for data in decision.delivery.data["benefits"]:
                row = benefit_values(data, decision.delivery.data["municipality"])
                pk = current.pop(data["external_id"], None)
                if pk is None:
                    row.update(grant_id=grant.pk, external_id=data["external_id"])
                    creates.append(row)
                else:
                    row["id"] = pk
                    updates.append(row)
                    kept.append(pk)
                if data["payment_plan"] is not None:
                    plans.append((row, data["payment_plan"]))
            removed.extend(current.values())
        bulk.rows_delete(PaymentPlan, "benefit_id", removed + kept)
        bulk.rows_delete(GrantedBenefit, "id", removed)
        bulk.rows_insert(GrantedBenefit, creates, with_ids=True)
        if updates:
            bulk.rows_update(GrantedBenefit, updates, [n for n in updates[0] if n != "id"])
        bulk.rows_insert(
            PaymentPlan,
            [
                {
                    "benefit_id": row["id"],
                    "frequency": plan["frequency"],
                    "timing": plan["timing"],
                    "payment_day": plan["payment_day"],
                    "amount": plan["amount"],
                    "start_on": plan["start_on"],
                    "end_on": plan["end_on"],
                }
                for row, plan in plans
            ],
        )
        # Payment.party_cpr is the grant's party, denormalised: keep it in step. This is
        # derived data, not a delivery, so the payments' versions do not change.
        for decision in decisions:
            grant = decision.existing
            if decision.action == "update" and party_before[grant.pk] != grant.party_cpr:
                Payment.objects.filter(benefit__grant=grant).update(party_cpr=grant.party_cpr)
        # Resolved above within this transaction; again after commit, in case a case
        # they name was committed meanwhile by a concurrent delivery (references.py).
        references.grants_written(d.existing.pk for d in decisions)
