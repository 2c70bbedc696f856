"""Nexus (elder care): visitations and the services and aids they grant; a CSV export.

Its habits: a semicolon-separated Windows-1252 file with CRLF line ends and a
header on every page; numbered changes ("ændringsnr") the reader asks after;
dates as dd-mm-yyyy and local times without an offset; one row per case
version and one row per benefit of a grant version (the grant's columns
repeated), all rows of a change sharing its number; no envelope, so the reader
knows it has everything when a page is shorter than it asked for.
"""

import csv
import datetime
import io

from simulators.catalogue import NEXUS, SERVICES
from simulators.systems.base import (
    Draft,
    Simulator,
    case_versions,
    iso,
    sensitivity_of,
)
from simulators.world import TZ, Engagement

MAX_PAGE = 1000
COLUMNS = (
    "aendringsnr", "aendret", "posttype", "kommunekode", "cpr", "sag_id", "sagsnummer",
    "titel", "kle", "facet", "foelsomhed", "skjult", "enhed", "medarbejder", "oprettet",
    "status", "afgoerelse", "fremdrift", "bevilling_id", "bevilling_fra", "bevilling_til",
    "bevilling_status", "begrundelse", "ydelse_id", "ydelse", "ydelse_kle", "ydelse_fra",
    "ydelse_til", "ydelse_status", "beskrivelse", "leverandoer", "bevilget_af",
    "afventer_borger_fra",
)  # fmt: skip
SENSITIVITY_CODES = {
    "IKKE_FORTROLIGE_DATA": "1",
    "FORTROLIGE_PERSONOPLYSNINGER": "2",
    "FOELSOMME_PERSONOPLYSNINGER": "3",
    "VIP_SAGER": "4",
}
BENEFIT_STATUSES = {"Aktiv": "Aktiv", "Inaktiv": "Ophørt", "Passiv": "Passiv"}
ENCODING = "cp1252"


def nexus_case_id(engagement: Engagement) -> str:
    return f"NX-S{engagement.number:07d}"


def nexus_grant_id(engagement: Engagement) -> str:
    return f"NX-B{engagement.number:07d}"


def local_date(value: str) -> str:
    """ISO date → dd-mm-yyyy."""
    return datetime.date.fromisoformat(value).strftime("%d-%m-%Y")


def local_time(value: str) -> str:
    """ISO datetime with offset → local dd-mm-yyyy HH:MM:SS without offset (Nexus's habit)."""
    return datetime.datetime.fromisoformat(value).astimezone(TZ).strftime("%d-%m-%Y %H:%M:%S")


class NexusSimulator(Simulator):
    product = NEXUS
    path = "nexus/ydelser.csv"
    media_type = "text/csv; charset=windows-1252"

    def delivered_at(self, moment: datetime.datetime) -> datetime.datetime:
        # Exported every hour, on the hour.
        local = moment.astimezone(TZ).replace(minute=0, second=0, microsecond=0)
        return local + datetime.timedelta(hours=1)

    def drafts(self) -> list[Draft]:
        result: list[Draft] = []
        for engagement in self.world.engagements_of(NEXUS):
            self._exempt = engagement.is_demo
            result.extend(self._case(engagement))
            if engagement.granted and engagement.services:
                result.extend(self._grant(engagement))
        return result

    def _case(self, engagement: Engagement) -> list[Draft]:
        kind = engagement.kind
        case_id = nexus_case_id(engagement)
        kle, kle_faults = self.kle_with_faults(
            kind=kind, key=kind.key, default=kind.kle, record=case_id
        )
        title, title_faults = self.title_with_faults(
            good=kind.title, record=case_id, wire_kind="case"
        )
        party, party_faults = self.party_for(engagement, record=case_id, wire_kind="case")
        unclosed = engagement.closed is not None and self.has_fault("unclosed", "case", case_id)
        faults = kle_faults + title_faults + party_faults + (("unclosed",) if unclosed else ())
        status_text = {"Opstaaet": "Henvendelse", "Oplyst": "Besøg afholdt",
                       "Afgjort": "Afgjort", "Afsluttet": "Afsluttet"}  # fmt: skip
        drafts = []
        for moment, status, history, awaiting in case_versions(engagement, unclosed=unclosed):
            payload = {
                "external_id": case_id,
                "source_timestamp": iso(moment),
                "municipality": self.municipality,
                "case_number": f"NX{engagement.number:07d}",
                "title": title,
                "sensitivity": sensitivity_of(kind),
                "hidden_from_citizen": engagement.hidden,
                "kle_number": kle,
                "facet": "G01",
                "responsible_unit": f"{self.municipality_name} Kommune, {kind.unit}",
                "primary_caseworker": self.caseworker(engagement),
                "party": party,
                "created_on": engagement.opened.date().isoformat(),
                "source_status_text": status_text[status],
                "progress": history,
            }
            if status in ("Afgjort", "Afsluttet"):
                payload["decision_class"] = "Bevilling" if engagement.granted else "Afslag"
            if awaiting is not None:
                payload["awaiting_party_since"] = iso(awaiting)
            drafts.append(Draft("case", case_id, payload, faults))
        return drafts

    def _grant(self, engagement: Engagement) -> list[Draft]:
        grant_id = nexus_grant_id(engagement)
        case_id = nexus_case_id(engagement)
        party, party_faults = self.party_for(engagement, record=grant_id, wire_kind="grant")
        closed_on = engagement.closed.date() if engagement.closed else None
        # The moments the grant changes: services granted, services ending, the case closing.
        moments: set[datetime.datetime] = set()
        for period in engagement.services:
            moments.add(period.granted_at + datetime.timedelta(hours=1))
            if period.end:
                moments.add(_at(period.end, 16))
        if engagement.closed:
            moments.add(engagement.closed + datetime.timedelta(hours=1))
        benefit_kle = {}
        faults = party_faults
        for period in engagement.services:
            service = SERVICES[period.key]
            number, kle_faults = self.kle_with_faults(
                kind=engagement.kind, key=service.key, default=service.kle,
                record=f"{grant_id}-{service.key}", wire_kind="grant",
            )  # fmt: skip
            benefit_kle[period.key] = number
            faults += kle_faults
        drafts = []
        for moment in sorted(moments):
            granted = [p for p in engagement.services if p.granted_at < moment]
            if not granted:
                continue
            closed = closed_on is not None and moment >= engagement.closed
            benefits = []
            for period in granted:
                service = SERVICES[period.key]
                end = period.end
                if closed and (end is None or end > closed_on):
                    end = closed_on
                ended = end is not None and moment.date() >= end
                benefit = {
                    "external_id": f"{grant_id}-{service.key}",
                    "name": service.name,
                    "kind": "service",
                    "kle_number": benefit_kle[period.key],
                    "start_on": period.start.isoformat(),
                    "status": "Inaktiv" if ended else "Aktiv",
                    "description": service.description,
                    "delivered_by": service.delivered_by,
                    "granted_by": f"{self.municipality_name} Kommune, Visitationen",
                    "related_case": case_id,
                }
                if end:
                    benefit["end_on"] = end.isoformat()
                benefits.append(benefit)
            payload = {
                "external_id": grant_id,
                "source_timestamp": iso(moment),
                "municipality": self.municipality,
                "case_number": f"NX{engagement.number:07d}",
                "party": party,
                "start_on": min(p.start for p in granted).isoformat(),
                "reason": "Serviceloven § 83 og § 112",
                "sensitivity": "FOELSOMME_PERSONOPLYSNINGER",
                "status": "Inaktiv" if closed else "Aktiv",
                "related_case": case_id,
                "benefits": benefits,
            }
            if closed:
                payload["end_on"] = closed_on.isoformat()
            drafts.append(Draft("grant", grant_id, payload, faults))
        return drafts

    # --- Nexus's wire format --------------------------------------------------------------

    def page(self, *, params, now) -> bytes:
        after = self._int_param(params, "efter", 0)
        limit = min(self._int_param(params, "antal", 100, low=1), MAX_PAGE)
        visible = self.visible_count(now)
        chosen = self.log[after : min(after + limit, visible)]
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for change in chosen:
            for row in self._rows(change):
                writer.writerow([row.get(column, "") for column in COLUMNS])
        return buffer.getvalue().encode(ENCODING)

    def _rows(self, change) -> list[dict]:
        p = change.payload
        party = p.get("party") or {}
        common = {
            "aendringsnr": str(change.seq + 1),
            "aendret": local_time(p["source_timestamp"]),
            "kommunekode": p["municipality"],
            "cpr": party.get("cpr", ""),
        }
        if change.kind == "case":
            return [
                common
                | {
                    "posttype": "SAG",
                    "sag_id": p["external_id"],
                    "sagsnummer": p["case_number"],
                    "titel": p["title"],
                    "kle": p["kle_number"],
                    "facet": p["facet"],
                    "foelsomhed": SENSITIVITY_CODES[p["sensitivity"]],
                    "skjult": "J" if p["hidden_from_citizen"] else "N",
                    "enhed": p["responsible_unit"],
                    "medarbejder": p["primary_caseworker"],
                    "oprettet": local_date(p["created_on"]),
                    "status": p["source_status_text"],
                    "afgoerelse": p.get("decision_class", ""),
                    "afventer_borger_fra": local_time(p["awaiting_party_since"])
                    if "awaiting_party_since" in p
                    else "",
                    "fremdrift": "|".join(
                        f"{period['status']}={local_time(period['from'])}.."
                        + (local_time(period["to"]) if "to" in period else "")
                        for period in p["progress"]
                    ),
                }
            ]
        rows = []
        for benefit in p["benefits"]:
            rows.append(
                common
                | {
                    "posttype": "YDELSE",
                    "sag_id": p["related_case"],
                    "sagsnummer": p["case_number"],
                    "foelsomhed": SENSITIVITY_CODES[p["sensitivity"]],
                    "bevilling_id": p["external_id"],
                    "bevilling_fra": local_date(p["start_on"]),
                    "bevilling_til": local_date(p["end_on"]) if "end_on" in p else "",
                    "bevilling_status": BENEFIT_STATUSES[p["status"]],
                    "begrundelse": p["reason"],
                    "ydelse_id": benefit["external_id"],
                    "ydelse": benefit["name"],
                    "ydelse_kle": benefit["kle_number"],
                    "ydelse_fra": local_date(benefit["start_on"]),
                    "ydelse_til": local_date(benefit["end_on"]) if "end_on" in benefit else "",
                    "ydelse_status": BENEFIT_STATUSES[benefit["status"]],
                    "beskrivelse": benefit["description"],
                    "leverandoer": benefit["delivered_by"],
                    "bevilget_af": benefit["granted_by"],
                }
            )
        return rows


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, 0)).replace(tzinfo=TZ)
