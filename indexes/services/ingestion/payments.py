"""Payments (the benefit index): the payment handler of the ingestion engine.

A payment names its grant and benefit by external id within the same source
system; they must exist already or come earlier in the same batch (else
``unknown_grant``). Its party is the grant's, denormalised.
"""

from __future__ import annotations

from collections import defaultdict

from indexes.models import Grant, GrantedBenefit, Payment
from indexes.services import canonical, validation
from indexes.services.ingestion import grants
from indexes.services.ingestion.engine import Handler


class PaymentHandler(Handler):
    kind = "payment"
    model = Payment
    rules = staticmethod(validation.payment_problems)
    from_data = staticmethod(canonical.payment_from_data)

    def lookups_load(self, batch, datas, lookups):
        wanted = {data["grant_external_id"] for data in datas if "grant_external_id" in data}
        found = {
            g.pk: g
            for g in Grant.objects.filter(
                source_system=batch.source_system, external_id__in=wanted, retracted_at__isnull=True
            )
        }
        benefits = defaultdict(dict)
        for benefit in GrantedBenefit.objects.filter(grant_id__in=found):
            benefits[benefit.grant_id][benefit.external_id] = benefit
        lookups.grants = {g.external_id: (g, benefits[g.pk]) for g in found.values()}
        for external_id, earlier in grants.known(batch).items():
            if external_id in wanted:
                lookups.grants.setdefault(external_id, earlier)

    def load_existing(self, source_system, external_ids):
        payments = list(self.locked(source_system, external_ids).select_related("benefit__grant"))
        return {
            p.external_id: (
                p,
                canonical.payment_from_instance(
                    p,
                    grant_external_id=p.benefit.grant.external_id,
                    benefit_external_id=p.benefit.external_id,
                ),
            )
            for p in payments
        }

    def write(self, batch, decisions, lookups):
        def fields_of(data):
            grant, benefits = lookups.grants[data["grant_external_id"]]
            return {
                "municipality_id": data["municipality"],
                "benefit_id": benefits[data["benefit_external_id"]].id,
                "party_cpr": grant.party_cpr,
                "disposal_date": data["disposal_date"],
                "period_start": data["period"]["start"],
                "period_end": data["period"]["end"],
                "gross_amount": data["gross_amount"],
                "amount_after_tax": data["amount_after_tax"],
                "amount_sent": data["amount_sent"],
                "amount_paid": data["amount_paid"],
                "paying_office": data["paying_office"],
            }

        batch.save_main(self, decisions, fields_of)
