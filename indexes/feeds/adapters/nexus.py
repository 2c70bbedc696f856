"""Nexus's CSV export → index records (visitation cases and service grants).

Windows-1252, semicolons, dd-mm-yyyy dates and local times without an offset
(read as Europe/Copenhagen). Rows of one change share its number; the rows of
a grant version are folded back into one grant with its benefits.
"""

import csv
import datetime
import io
from itertools import groupby
from zoneinfo import ZoneInfo

from indexes.feeds.adapters.base import Adapter, Delivery, Page, PageUnreadable, unmappable

TZ = ZoneInfo("Europe/Copenhagen")
ENCODING = "cp1252"
MAX_LIMIT = 1000
REQUIRED = {"aendringsnr", "aendret", "posttype", "kommunekode", "cpr", "sag_id"}
SENSITIVITIES = {
    "1": "IKKE_FORTROLIGE_DATA",
    "2": "FORTROLIGE_PERSONOPLYSNINGER",
    "3": "FOELSOMME_PERSONOPLYSNINGER",
    "4": "VIP_SAGER",
}
BENEFIT_STATUSES = {"Aktiv": "Aktiv", "Ophørt": "Inaktiv", "Passiv": "Passiv"}


def iso_date(value: str) -> str:
    """dd-mm-yyyy → ISO date."""
    return datetime.datetime.strptime(value, "%d-%m-%Y").date().isoformat()  # noqa: DTZ007 - a date


def iso_time(value: str) -> str:
    """Local 'dd-mm-yyyy HH:MM:SS' (Copenhagen) → ISO 8601 with its offset."""
    naive = datetime.datetime.strptime(value, "%d-%m-%Y %H:%M:%S")  # noqa: DTZ007 - local time
    return naive.replace(tzinfo=TZ).isoformat()


class NexusAdapter(Adapter):
    key = "nexus_csv"
    product = "Nexus"
    path = "nexus/ydelser.csv"
    label = "Nexus ydelseseksport (CSV)"

    def request_params(self, *, cursor: str, limit: int) -> dict[str, str]:
        return {"efter": str(int(cursor or 0)), "antal": str(min(limit, MAX_LIMIT))}

    def page_parse(self, *, body: bytes, cursor: str, municipality: str, limit: int) -> Page:
        try:
            text = body.decode(ENCODING)
        except UnicodeDecodeError:
            raise PageUnreadable("Nexus-filen er ikke Windows-1252") from None
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=";")
        if reader.fieldnames is None or not set(reader.fieldnames) >= REQUIRED:
            raise PageUnreadable("Nexus-filen mangler kolonneoverskrifter")
        try:
            rows = list(reader)
        except csv.Error as exc:
            raise PageUnreadable(f"Nexus-filen kan ikke læses ({exc})") from None
        deliveries: list[Delivery] = []
        last = int(cursor or 0)
        changes = 0
        for number, group in groupby(rows, key=lambda row: row["aendringsnr"]):
            group = list(group)
            try:
                change_number = int(number)
            except ValueError:
                raise PageUnreadable("Nexus-filen har et ændringsnr der ikke er et tal") from None
            if change_number <= last:
                raise PageUnreadable("Nexus-filens ændringsnumre stiger ikke")
            last = change_number
            changes += 1
            if any(row["kommunekode"] != municipality for row in group):
                raise PageUnreadable(
                    f"Nexus-filen har rækker fra en anden kommune end {municipality}"
                )
            deliveries.append(self._change(group, change_number))
        return Page(deliveries=deliveries, next_cursor=str(last), has_more=changes >= limit)

    def _change(self, rows: list[dict], number: int) -> Delivery:
        first = rows[0]
        kind = "case" if first["posttype"] == "SAG" else "grant"
        external_id = first["sag_id"] if kind == "case" else first.get("bevilling_id", "")
        try:
            payload = self._case(first) if kind == "case" else self._grant(rows)
        except (KeyError, ValueError) as exc:
            return unmappable(kind=kind, external_id=external_id, pointer=f"/aendringsnr/{number}",
                              detail=f"{type(exc).__name__} {exc}"[:200])  # fmt: skip
        return Delivery(kind=kind, external_id=external_id, payload=payload)

    def _case(self, row: dict) -> dict:
        progress = []
        for item in row["fremdrift"].split("|"):
            status, span = item.split("=", 1)
            start, end = span.split("..", 1)
            period = {"status": status, "from": iso_time(start)}
            if end:
                period["to"] = iso_time(end)
            progress.append(period)
        payload = {
            "external_id": row["sag_id"],
            "source_timestamp": iso_time(row["aendret"]),
            "municipality": row["kommunekode"],
            "case_number": row["sagsnummer"],
            "title": row["titel"],
            "sensitivity": SENSITIVITIES[row["foelsomhed"]],
            "hidden_from_citizen": {"J": True, "N": False}[row["skjult"]],
            "kle_number": row["kle"],
            "facet": row["facet"],
            "responsible_unit": row["enhed"],
            "primary_caseworker": row["medarbejder"],
            "party": {"cpr": row["cpr"]} if row["cpr"] else None,
            "created_on": iso_date(row["oprettet"]),
            "source_status_text": row["status"],
            "progress": progress,
        }
        if row["afgoerelse"]:
            payload["decision_class"] = row["afgoerelse"]
        # An export from before the column was added has none: not waiting.
        if row.get("afventer_borger_fra"):
            payload["awaiting_party_since"] = iso_time(row["afventer_borger_fra"])
        return payload

    def _grant(self, rows: list[dict]) -> dict:
        first = rows[0]
        benefits = []
        for row in rows:
            benefit = {
                "external_id": row["ydelse_id"],
                "name": row["ydelse"],
                "kind": "service",
                "kle_number": row["ydelse_kle"],
                "start_on": iso_date(row["ydelse_fra"]),
                "status": BENEFIT_STATUSES[row["ydelse_status"]],
                "description": row["beskrivelse"],
                "delivered_by": row["leverandoer"],
                "granted_by": row["bevilget_af"],
                "related_case": row["sag_id"],
            }
            if row["ydelse_til"]:
                benefit["end_on"] = iso_date(row["ydelse_til"])
            benefits.append(benefit)
        payload = {
            "external_id": first["bevilling_id"],
            "source_timestamp": iso_time(first["aendret"]),
            "municipality": first["kommunekode"],
            "case_number": first["sagsnummer"],
            "party": {"cpr": first["cpr"]} if first["cpr"] else None,
            "start_on": iso_date(first["bevilling_fra"]),
            "reason": first["begrundelse"],
            "sensitivity": SENSITIVITIES[first["foelsomhed"]],
            "status": BENEFIT_STATUSES[first["bevilling_status"]],
            "related_case": first["sag_id"],
            "benefits": benefits,
        }
        if first["bevilling_til"]:
            payload["end_on"] = iso_date(first["bevilling_til"])
        return payload
