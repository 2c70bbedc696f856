"""KMD Ydelse (an ATP/KMD-like payments system): grants, plans and monthly payments.

Its habits: newline-delimited JSON in nightly numbered batches ("leverancer")
that close at 01:00 the next day; every batch ends with a BATCHSLUT line giving
its line count and every page with a SIDESLUT line, so a cut-off transfer is
detectable; amounts as integer øre; the municipality as a number; CPR without
a dash, an empty string when missing; the payments of a grant quote the
jobcentre's case number, not a case id (another system's case).
"""

import calendar
import datetime
import json
import random
from decimal import ROUND_HALF_UP, Decimal

from simulators.catalogue import (
    FASIT,
    KMD_YDELSE,
    MONTHLY_ALLOWANCE_RANGE,
    TAX_RATE_RANGE,
)
from simulators.systems.base import Draft, Simulator, iso, money
from simulators.systems.fasit import fasit_case_number
from simulators.world import TZ, Engagement

MAX_LINES = 5000
CENT = Decimal("0.01")
REGULATION = Decimal("1.025")  # yearly "satsregulering"
STATUS_CODES = {"Aktiv": "AKTIV", "Inaktiv": "OPHOERT", "Passiv": "PASSIV"}
SENSITIVITY_CODES = {
    "IKKE_FORTROLIGE_DATA": "IKKE_FORTROLIG",
    "FORTROLIGE_PERSONOPLYSNINGER": "FORTROLIG",
    "FOELSOMME_PERSONOPLYSNINGER": "FOELSOM",
    "VIP_SAGER": "VIP",
}


def payments_grant_id(engagement: Engagement) -> str:
    return f"YD-{engagement.number:07d}"


def last_bank_day(year: int, month: int) -> datetime.date:
    """The last weekday of the month (Danish public holidays are not modelled)."""
    day = datetime.date(year, month, calendar.monthrange(year, month)[1])
    while day.weekday() >= 5:
        day -= datetime.timedelta(days=1)
    return day


def _months(first: datetime.date, last: datetime.date):
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, 0)).replace(tzinfo=TZ)


class PaymentsSimulator(Simulator):
    product = KMD_YDELSE
    path = "kmdydelse/leverancer"
    media_type = "application/x-ndjson"

    def delivered_at(self, moment: datetime.datetime) -> datetime.datetime:
        # The day's batch closes at 01:00 the next night.
        local = moment.astimezone(TZ).date() + datetime.timedelta(days=1)
        return _at(local, 1)

    def batch_of(self, delivered_at: datetime.datetime) -> int:
        return (delivered_at.astimezone(TZ).date() - self.config.start).days

    def drafts(self) -> list[Draft]:
        result: list[Draft] = []
        for engagement in self.world.engagements_of(FASIT, KMD_YDELSE):
            self._exempt = engagement.is_demo
            if engagement.kind.benefit and engagement.granted and engagement.decided:
                result.extend(self._grant(engagement))
        return result

    def _grant(self, engagement: Engagement) -> list[Draft]:
        kind = engagement.kind
        benefit_spec = kind.benefit
        grant_id = payments_grant_id(engagement)
        benefit_id = f"{grant_id}-1"
        rng = random.Random(f"{self.config.seed}:{self.municipality}:amount:{engagement.number}")  # noqa: S311 - a seeded simulation, not a secret
        base_amount = Decimal(rng.randint(*benefit_spec.monthly))
        rate = Decimal(rng.randint(int(TAX_RATE_RANGE[0] * 100), int(TAX_RATE_RANGE[1] * 100)))
        rate /= 100
        allowance = Decimal(rng.randint(*MONTHLY_ALLOWANCE_RANGE))
        start = engagement.benefit_start
        end = engagement.benefit_end
        registered = engagement.decided + datetime.timedelta(hours=20)
        party, party_faults = self.party_for(engagement, record=grant_id, wire_kind="grant")
        kle, kle_faults = self.kle_with_faults(
            kind=kind, key=benefit_spec.name, default=benefit_spec.kle, record=grant_id,
            wire_kind="grant",
        )  # fmt: skip
        faults = party_faults + kle_faults

        def amount_in(year: int) -> Decimal:
            years = max(0, year - max(start.year, registered.year))
            return (base_amount * REGULATION**years).quantize(CENT, ROUND_HALF_UP)

        case_number = (
            fasit_case_number(engagement)
            if kind.system == FASIT
            else f"PEN-{engagement.number:07d}"
        )
        office = (
            "Pension og Boligstøtte" if kind.system == KMD_YDELSE else "Ydelseskontoret"
        ) + f", {self.municipality_name} Kommune"

        def grant_version(moment: datetime.datetime, year: int, ended: bool) -> dict:
            plan = {
                "frequency": "Månedlig",
                "timing": benefit_spec.timing,
                "payment_day": "Sidste bankdag i måneden",
                "amount": money(amount_in(year)),
                "start_on": start.isoformat(),
            }
            benefit = {
                "external_id": benefit_id,
                "name": benefit_spec.name,
                "kind": "oekonomisk",
                "kle_number": kle,
                "start_on": start.isoformat(),
                "status": "Inaktiv" if ended else "Aktiv",
                "repayable": benefit_spec.repayable,
                "delivered_by": office,
                "granted_by": f"{self.municipality_name} Kommune",
                "payment_plan": plan,
            }
            payload = {
                "external_id": grant_id,
                "source_timestamp": iso(moment),
                "municipality": self.municipality,
                "case_number": case_number,
                "party": party,
                "start_on": start.isoformat(),
                "reason": benefit_spec.reason,
                "sensitivity": "FORTROLIGE_PERSONOPLYSNINGER",
                "status": "Inaktiv" if ended else "Aktiv",
                "benefits": [benefit],
            }
            if kind.system == FASIT:
                # The jobcentre's case (FASIT), named by its number: another source system
                # of the municipality (issue 11.1). The citizen sees the benefit only as
                # far as they may see that case.
                payload["related_case_number"] = case_number
            if ended and end:
                for holder in (payload, benefit, plan):
                    holder["end_on"] = end.isoformat()
            if kind.system == KMD_YDELSE and party and engagement.number % 9 == 4:
                # Housing support paid to the landlord (issue 18): the grant's Ydelsesmodtager,
                # derived from the engagement (no random draw).
                payload["recipient"] = {"cvr": "29189846", "name": "Boligselskabet Test"}
            return payload

        drafts = [Draft("grant", grant_id, grant_version(registered, registered.year, False),
                        faults)]  # fmt: skip
        last_year = (end or self.config.horizon).year
        for year in range(registered.year + 1, last_year + 1):
            moment = _at(datetime.date(year, 1, 2), 7)
            if end and moment.date() > end:
                break
            drafts.append(Draft("grant", grant_id, grant_version(moment, year, False), faults))
        if end and engagement.closed:
            moment = max(engagement.closed, registered) + datetime.timedelta(hours=1)
            drafts.append(Draft("grant", grant_id, grant_version(moment, end.year, True), faults))
        # Monthly payments.
        last_day = min(end or self.config.horizon, self.config.horizon)
        for year, month in _months(start, last_day):
            first_of = datetime.date(year, month, 1)
            last_of = datetime.date(year, month, calendar.monthrange(year, month)[1])
            period_start, period_end = max(first_of, start), min(last_of, last_day)
            if period_end < period_start:
                continue
            if benefit_spec.timing == "Forud":
                before = first_of - datetime.timedelta(days=1)
                disposal = last_bank_day(before.year, before.month)
            else:
                disposal = last_bank_day(year, month)
            moment = _at(disposal - datetime.timedelta(days=2), 5)
            if moment <= registered:  # back pay after a late decision
                disposal = registered.date() + datetime.timedelta(days=3)
                moment = registered + datetime.timedelta(hours=2)
            days = Decimal((period_end - period_start).days + 1)
            gross = (amount_in(year) * days / Decimal(last_of.day)).quantize(CENT, ROUND_HALF_UP)
            tax = max(Decimal(0), ((gross - allowance) * rate).quantize(Decimal(1), ROUND_HALF_UP))
            net = gross - tax
            payment_id = f"{grant_id}-U{year}{month:02d}"
            payload = {
                "external_id": payment_id,
                "source_timestamp": iso(moment),
                "municipality": self.municipality,
                "grant_external_id": grant_id,
                "benefit_external_id": benefit_id,
                "disposal_date": disposal.isoformat(),
                "period": {"start": period_start.isoformat(), "end": period_end.isoformat()},
                "gross_amount": money(gross),
                "amount_after_tax": money(net),
                "amount_sent": money(net),
                "amount_paid": money(net),
                "paying_office": office,
            }
            drafts.append(Draft("payment", payment_id, payload))
        return drafts

    # --- KMD Ydelse's wire format ------------------------------------------------------------

    def page(self, *, params, now) -> bytes:
        first_batch = self._int_param(params, "fraBatch", 1, low=0)
        max_lines = min(self._int_param(params, "maksLinjer", 1000, low=1), MAX_LINES)
        visible = self.log[: self.visible_count(now)]
        batches: dict[int, list] = {}
        for change in visible:
            number = self.batch_of(change.delivered_at)
            if number >= first_batch:
                batches.setdefault(number, []).append(change)
        lines: list[str] = []
        last_batch = first_batch - 1
        numbers = sorted(batches)
        taken = 0
        for number in numbers:
            changes = batches[number]
            if lines and len(lines) + len(changes) + 1 > max_lines:
                break
            for position, change in enumerate(changes, 1):
                lines.append(json.dumps(self._line(change, number, position), ensure_ascii=False))
            lines.append(json.dumps({"type": "BATCHSLUT", "batch": number, "antal": len(changes)}))
            last_batch = number
            taken += 1
        more = taken < len(numbers)
        lines.append(json.dumps({"type": "SIDESLUT", "sidsteBatch": last_batch, "flere": more}))
        return ("\n".join(lines) + "\n").encode()

    def _line(self, change, batch: int, position: int) -> dict:
        p = change.payload
        head = {
            "batch": batch,
            "loebenr": position,
            "tid": p["source_timestamp"],
            "kommune": int(p["municipality"]),
        }
        if change.kind == "payment":
            return (
                {"type": "UDBETALING"}
                | head
                | {
                    "bevillingsnr": p["grant_external_id"],
                    "ydelsesnr": p["benefit_external_id"],
                    "udbetalingsnr": p["external_id"],
                    "dispositionsdato": p["disposal_date"],
                    "periode": {"fra": p["period"]["start"], "til": p["period"]["end"]},
                    "bruttoOere": _oere(p["gross_amount"]),
                    "efterSkatOere": _oere(p["amount_after_tax"]),
                    "sendtOere": _oere(p["amount_sent"]),
                    "udbetaltOere": _oere(p["amount_paid"]),
                    "kontor": p["paying_office"],
                }
            )
        party = p.get("party") or {}
        return (
            {"type": "BEVILLING"}
            | head
            | {
                "bevillingsnr": p["external_id"],
                "sagsnr": p["case_number"],
                "fagsagsnr": p.get("related_case_number"),
                # Who receives the benefit when it is not the citizen (absent otherwise).
                **(
                    {"modtager": {"cvrnr": p["recipient"]["cvr"], "navn": p["recipient"]["name"]}}
                    if p.get("recipient")
                    else {}
                ),
                "cpr": party.get("cpr", ""),
                "fra": p["start_on"],
                "til": p.get("end_on"),
                "status": STATUS_CODES[p["status"]],
                "begrundelse": p["reason"],
                "foelsomhed": SENSITIVITY_CODES[p["sensitivity"]],
                "ydelser": [
                    {
                        "ydelsesnr": b["external_id"],
                        "navn": b["name"],
                        "kle": b["kle_number"],
                        "fra": b["start_on"],
                        "til": b.get("end_on"),
                        "status": STATUS_CODES[b["status"]],
                        "tilbagebetalingspligt": "J" if b["repayable"] else "N",
                        "udbetaltAf": b["delivered_by"],
                        "bevilgetAf": b["granted_by"],
                        "plan": {
                            "frekvens": "MAANEDLIG",
                            "forudBagud": b["payment_plan"]["timing"][0],
                            "dispositionsdag": "SIDSTE_BANKDAG",
                            "beloebOere": _oere(b["payment_plan"]["amount"]),
                            "fra": b["payment_plan"]["start_on"],
                            "til": b["payment_plan"].get("end_on"),
                        },
                    }
                    for b in p["benefits"]
                ],
            }
        )


def _oere(amount: str) -> int:
    return int((Decimal(amount) * 100).to_integral_value())
