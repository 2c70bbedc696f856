"""KMD Ydelse's NDJSON batches → index records (grants with plans, and payments).

Every batch must end with its BATCHSLUT line and the page with SIDESLUT; a
page whose counts do not add up was cut off in transfer and is refused whole.
Amounts arrive as integer øre and leave as decimal kroner strings.
"""

import json
from decimal import Decimal

from indexes.feeds.adapters.base import Adapter, Delivery, Page, PageUnreadable, unmappable

MAX_LINES = 5000
STATUSES = {"AKTIV": "Aktiv", "OPHOERT": "Inaktiv", "PASSIV": "Passiv"}
SENSITIVITIES = {
    "IKKE_FORTROLIG": "IKKE_FORTROLIGE_DATA",
    "FORTROLIG": "FORTROLIGE_PERSONOPLYSNINGER",
    "FOELSOM": "FOELSOMME_PERSONOPLYSNINGER",
    "VIP": "VIP_SAGER",
}
TIMINGS = {"F": "Forud", "B": "Bagud"}
FREQUENCIES = {"MAANEDLIG": "Månedlig", "UGENTLIG": "Ugentlig", "14DAGE": "Hver 14. dag"}
PAYMENT_DAYS = {"SIDSTE_BANKDAG": "Sidste bankdag i måneden"}


def kroner(oere: int) -> str:
    if not isinstance(oere, int) or isinstance(oere, bool):
        raise ValueError("beløb skal være et helt antal øre")
    return f"{Decimal(oere) / 100:.2f}"


class PaymentsAdapter(Adapter):
    key = "kmd_ydelse_ndjson"
    product = "KMD Ydelse"
    path = "kmdydelse/leverancer"
    label = "KMD Ydelse leverancer (NDJSON)"

    def request_params(self, *, cursor: str, limit: int) -> dict[str, str]:
        return {"fraBatch": str(int(cursor or 0) + 1), "maksLinjer": str(min(limit, MAX_LINES))}

    def page_parse(self, *, body: bytes, cursor: str, municipality: str, limit: int) -> Page:
        try:
            lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        except (UnicodeDecodeError, ValueError):
            raise PageUnreadable("KMD Ydelse-siden er ikke gyldig NDJSON") from None
        if not lines or lines[-1].get("type") != "SIDESLUT":
            raise PageUnreadable("KMD Ydelse-siden mangler SIDESLUT; overførslen er afbrudt")
        trailer = lines.pop()
        deliveries: list[Delivery] = []
        pending: list[dict] = []
        last_batch = int(cursor or 0)
        for line in lines:
            if line.get("type") == "BATCHSLUT":
                batch = line.get("batch")
                if len(pending) != line.get("antal") or any(
                    p.get("batch") != batch for p in pending
                ):
                    raise PageUnreadable(f"Batch {batch} har ikke det antal linjer den angiver")
                if not isinstance(batch, int) or batch <= last_batch:
                    raise PageUnreadable("KMD Ydelse-batchnumre stiger ikke")
                deliveries.extend(self._line(item, municipality) for item in pending)
                pending, last_batch = [], batch
            else:
                pending.append(line)
        if pending:
            raise PageUnreadable("KMD Ydelse-siden slutter midt i en batch")
        if trailer.get("sidsteBatch") not in (last_batch, int(cursor or 0)):
            raise PageUnreadable("KMD Ydelse-sidens SIDESLUT passer ikke med dens batches")
        if any(
            f"{int(item.payload['municipality']):03d}" != municipality
            for item in deliveries
            if item.payload
        ):
            raise PageUnreadable(
                f"KMD Ydelse-siden har poster fra en anden kommune end {municipality}"
            )
        return Page(
            deliveries=deliveries, next_cursor=str(last_batch), has_more=bool(trailer.get("flere"))
        )

    def _line(self, line: dict, municipality: str) -> Delivery:
        kind = "payment" if line.get("type") == "UDBETALING" else "grant"
        external_id = str(line.get("udbetalingsnr" if kind == "payment" else "bevillingsnr", ""))
        try:
            if line.get("type") not in ("UDBETALING", "BEVILLING"):
                raise ValueError(f"ukendt linjetype {line.get('type')}")
            payload = self._payment(line) if kind == "payment" else self._grant(line)
        except (KeyError, ValueError, TypeError) as exc:
            return unmappable(kind=kind, external_id=external_id,
                              pointer=f"/batch/{line.get('batch')}/{line.get('loebenr')}",
                              detail=f"{type(exc).__name__} {exc}"[:200])  # fmt: skip
        return Delivery(kind=kind, external_id=external_id, payload=payload)

    def _grant(self, line: dict) -> dict:
        benefits = []
        for item in line["ydelser"]:
            plan = item["plan"]
            payment_plan = {
                "frequency": FREQUENCIES[plan["frekvens"]],
                "timing": TIMINGS[plan["forudBagud"]],
                "payment_day": PAYMENT_DAYS[plan["dispositionsdag"]],
                "amount": kroner(plan["beloebOere"]),
                "start_on": plan["fra"],
            }
            if plan.get("til"):
                payment_plan["end_on"] = plan["til"]
            benefit = {
                "external_id": item["ydelsesnr"],
                "name": item["navn"],
                "kind": "oekonomisk",
                "kle_number": item["kle"],
                "start_on": item["fra"],
                "status": STATUSES[item["status"]],
                "repayable": {"J": True, "N": False}[item["tilbagebetalingspligt"]],
                "delivered_by": item["udbetaltAf"],
                "granted_by": item["bevilgetAf"],
                "payment_plan": payment_plan,
            }
            if item.get("til"):
                benefit["end_on"] = item["til"]
            benefits.append(benefit)
        payload = {
            "external_id": line["bevillingsnr"],
            "source_timestamp": line["tid"],
            "municipality": f"{int(line['kommune']):03d}",
            "case_number": line["sagsnr"],
            "party": {"cpr": line["cpr"]} if line["cpr"] else None,
            "start_on": line["fra"],
            "reason": line["begrundelse"],
            "sensitivity": SENSITIVITIES[line["foelsomhed"]],
            "status": STATUSES[line["status"]],
            "benefits": benefits,
        }
        if line.get("til"):
            payload["end_on"] = line["til"]
        if line.get("fagsagsnr"):  # the jobcentre's case (FASIT) the grant belongs to
            payload["related_case_number"] = line["fagsagsnr"]
        if line.get("modtager"):  # the Ydelsesmodtager, when not the citizen (issue 18)
            recipient = line["modtager"]
            payload["recipient"] = (
                {"cvr": recipient["cvrnr"]}
                if recipient.get("cvrnr")
                else {"cpr": recipient.get("cprnr", "")}
            ) | ({"name": recipient["navn"]} if recipient.get("navn") else {})
        return payload

    def _payment(self, line: dict) -> dict:
        return {
            "external_id": line["udbetalingsnr"],
            "source_timestamp": line["tid"],
            "municipality": f"{int(line['kommune']):03d}",
            "grant_external_id": line["bevillingsnr"],
            "benefit_external_id": line["ydelsesnr"],
            "disposal_date": line["dispositionsdato"],
            "period": {"start": line["periode"]["fra"], "end": line["periode"]["til"]},
            "gross_amount": kroner(line["bruttoOere"]),
            "amount_after_tax": kroner(line["efterSkatOere"]),
            "amount_sent": kroner(line["sendtOere"]),
            "amount_paid": kroner(line["udbetaltOere"]),
            "paying_office": line["kontor"],
        }
