"""SBSYS (ESDH): cases and documents across many KLE areas; a nightly XML export.

Its habits: one export per night (changes become available at 02:00 the next
day), numbered changes ("løbenumre") the reader asks from; journal numbers
built from the KLE number, facet, serial and year ("27.45.04-G01-123-21");
case status B (under behandling), A (afsluttet), P (passiv) as taught in seed
002; documents by direction ("Indgående", "Udgående", "Internt notat"); a
document may be attached to several cases.
"""

import datetime

from lxml import etree

from simulators.catalogue import SBSYS
from simulators.systems.base import (
    Draft,
    Simulator,
    case_versions,
    iso,
    sensitivity_of,
)
from simulators.systems.letters import letters_for
from simulators.world import TZ, Engagement

NAMESPACE = "urn:sbsys:eksport:1"
MAX_PAGE = 1000
SENSITIVITY_LABELS = {
    "IKKE_FORTROLIGE_DATA": "Ikke fortrolige data",
    "FORTROLIGE_PERSONOPLYSNINGER": "Fortrolige personoplysninger",
    "FOELSOMME_PERSONOPLYSNINGER": "Følsomme personoplysninger",
    "VIP_SAGER": "VIP",
}
DOCUMENT_TYPES = {
    "Brev, indgaaende": "Indgående",
    "Brev, udgaaende": "Udgående",
    "Internt Notat": "Internt notat",
    "Plan": "Plan",
}
DOCUMENT_STATUSES = {
    "Modtaget": "Modtaget",
    "Underudarbejdelse": "Under udarbejdelse",
    "Endeligt": "Endeligt",
}
STATUS_TEXT = {"B": "Under behandling", "A": "Afsluttet", "P": "Passiv"}


def sbsys_case_id(engagement: Engagement) -> str:
    return str(100_000 + engagement.number)


def _q(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


class SbsysSimulator(Simulator):
    product = SBSYS
    path = "sbsys/eksport"
    media_type = "application/xml"

    def delivered_at(self, moment: datetime.datetime) -> datetime.datetime:
        # The nightly export runs at 02:00 and carries the previous day's changes.
        local = moment.astimezone(TZ)
        night = datetime.datetime.combine(local.date() + datetime.timedelta(days=1),
                                          datetime.time(2, 0))  # fmt: skip
        return night.replace(tzinfo=TZ)

    def drafts(self) -> list[Draft]:
        result: list[Draft] = []
        engagements = self.world.engagements_of(SBSYS)
        earlier_open: dict[str, Engagement] = {}
        for engagement in sorted(engagements, key=lambda e: e.opened):
            self._exempt = engagement.is_demo
            previous = earlier_open.get(engagement.citizen.cpr)
            attach_to = (
                previous
                if previous and (previous.closed is None or previous.closed > engagement.opened)
                else None
            )
            result.extend(self._case(engagement, attach_to))
            earlier_open[engagement.citizen.cpr] = engagement
        return result

    def _case(self, engagement: Engagement, attach_to: Engagement | None) -> list[Draft]:
        kind = engagement.kind
        case_id = sbsys_case_id(engagement)
        kle, kle_faults = self.kle_with_faults(
            kind=kind, key=kind.key, default=kind.kle, record=case_id
        )
        good_title = kind.title
        if kind.key == "byggetilladelse" and engagement.citizen.street:
            good_title = f"{kind.title} på {engagement.citizen.street}"
        title, title_faults = self.title_with_faults(
            good=good_title, record=case_id, wire_kind="case"
        )
        party, party_faults = self.party_for(engagement, record=case_id, wire_kind="case")
        unclosed = engagement.closed is not None and self.has_fault("unclosed", "case", case_id)
        faults = kle_faults + title_faults + party_faults + (("unclosed",) if unclosed else ())
        base = {
            "external_id": case_id,
            "municipality": self.municipality,
            "case_number": f"{kle}-G01-{engagement.number}-{engagement.opened:%y}",
            "title": title,
            "sensitivity": sensitivity_of(kind),
            "hidden_from_citizen": engagement.hidden,
            "kle_number": kle,
            "facet": "G01",
            "responsible_unit": f"{self.municipality_name} Kommune, {kind.unit}",
            "primary_caseworker": self.caseworker(engagement),
            "party": party,
            "created_on": engagement.opened.date().isoformat(),
        }
        drafts = []
        versions_of_status = case_versions(engagement, unclosed=unclosed)
        for moment, status, history, awaiting in versions_of_status:
            payload = dict(
                base,
                source_timestamp=iso(moment),
                source_status_text=STATUS_TEXT["A" if status == "Afsluttet" else "B"],
                progress=history,
            )
            if status in ("Afgjort", "Afsluttet"):
                payload["decision_class"] = "Bevilling" if engagement.granted else "Afslag"
            if awaiting is not None:
                payload["awaiting_party_since"] = iso(awaiting)
            drafts.append(Draft("case", case_id, payload, faults))
        # An open case nobody touches for six months is set passive (P), seed 002. (ESDH
        # cases wait for the citizen only while being informed, so never by then.)
        if engagement.closed is None and engagement.decided and engagement.number % 3 == 0:
            moment, _status, history, _awaiting = versions_of_status[-1]
            passive_at = moment + datetime.timedelta(days=182)
            payload = dict(drafts[-1].payload, source_timestamp=iso(passive_at),
                           source_status_text=STATUS_TEXT["P"], progress=history)  # fmt: skip
            payload.pop("awaiting_party_since", None)
            drafts.append(Draft("case", case_id, payload, faults))
        for letter in letters_for(engagement):
            letter_id = f"{case_id}-{letter.suffix}"
            letter_title, letter_faults = self.title_with_faults(
                good=letter.title, record=letter_id, wire_kind="document"
            )
            sender, recipient, party_faults = self.letter_parties(
                engagement, document_type=letter.type, record=letter_id
            )
            links = [{"case_external_id": case_id, "role": letter.role}]
            if attach_to is not None and letter.suffix == "A":
                links.append({"case_external_id": sbsys_case_id(attach_to), "role": "Vedlagt"})
            for moment, status in letter.versions:
                payload = {
                    "external_id": letter_id,
                    "source_timestamp": iso(moment),
                    "municipality": self.municipality,
                    "title": letter_title,
                    "letter_date": letter.letter_date.isoformat(),
                    "type": letter.type,
                    "status": status,
                    "sensitivity": sensitivity_of(kind),
                    "kle_number": kle,
                    "sender": sender,
                    "recipient": recipient,
                    "cases": links,
                }
                drafts.append(
                    Draft("document", letter_id, payload, letter_faults + party_faults + kle_faults)
                )
        return drafts

    # --- SBSYS's wire format -----------------------------------------------------------

    def page(self, *, params, now) -> bytes:
        first = self._int_param(params, "fraLoebenummer", 1, low=1)
        limit = min(self._int_param(params, "maks", 200, low=1), MAX_PAGE)
        visible = self.visible_count(now)
        chosen = self.log[first - 1 : min(first - 1 + limit, visible)]
        last = first - 1 + len(chosen)
        root = etree.Element(_q("SBSYSEksport"), nsmap={None: NAMESPACE})
        root.set("version", "1.0")
        root.set("kommunekode", self.municipality)
        root.set("fraLoebenummer", str(first))
        root.set("tilLoebenummer", str(last))
        root.set("flere", "true" if last < visible else "false")
        for change in chosen:
            self._change(root, change)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    def _change(self, root, change) -> None:
        p = change.payload
        element = etree.SubElement(root, _q("Aendring"))
        element.set("loebenummer", str(change.seq + 1))
        element.set("tidspunkt", p["source_timestamp"])

        def text(parent, name: str, value: str | None) -> None:
            if value is not None:
                etree.SubElement(parent, _q(name)).text = value

        if change.kind == "case":
            sag = etree.SubElement(element, _q("Sag"), SagID=p["external_id"])
            text(sag, "Nummer", p["case_number"])
            text(sag, "Titel", p["title"])
            etree.SubElement(sag, _q("Journalnoegle"), Emne=p["kle_number"],
                             Handlingsfacet=p["facet"])  # fmt: skip
            party = p["party"]
            if party:
                kind, number = next(iter(party.items()))
                text(sag, "Primaerpart", number)
                sag.find(_q("Primaerpart")).set("Type", kind.upper())
            code = {v: k for k, v in STATUS_TEXT.items()}[p["source_status_text"]]
            status = etree.SubElement(sag, _q("Sagsstatus"), Kode=code)
            status.text = p["source_status_text"]
            text(sag, "Foelsomhed", SENSITIVITY_LABELS[p["sensitivity"]])
            text(sag, "SkjultForBorger", "ja" if p["hidden_from_citizen"] else "nej")
            etree.SubElement(sag, _q("Ansvarlig"), Enhed=p["responsible_unit"],
                             Behandler=p["primary_caseworker"])  # fmt: skip
            text(sag, "Oprettet", p["created_on"])
            text(sag, "Afgoerelse", p.get("decision_class"))
            # Absent when the case worker is not waiting for the party.
            text(sag, "AfventerPartFra", p.get("awaiting_party_since"))
            progress = etree.SubElement(sag, _q("Fremdrift"))
            for period in p["progress"]:
                item = etree.SubElement(progress, _q("Periode"), Status=period["status"],
                                        Fra=period["from"])  # fmt: skip
                if "to" in period:
                    item.set("Til", period["to"])
        else:
            dokument = etree.SubElement(element, _q("Dokument"), DokumentID=p["external_id"])
            text(dokument, "Titel", p["title"])
            text(dokument, "Brevdato", p["letter_date"])
            text(dokument, "Dokumenttype", DOCUMENT_TYPES[p["type"]])
            text(dokument, "Status", DOCUMENT_STATUSES[p["status"]])
            text(dokument, "Foelsomhed", SENSITIVITY_LABELS[p["sensitivity"]])
            etree.SubElement(dokument, _q("Journalnoegle"), Emne=p["kle_number"])
            # SBSYS's Afsender/Modtager: the number as text, its kind and the name as attributes.
            for key, name in (("sender", "Afsender"), ("recipient", "Modtager")):
                party = p.get(key)
                if party:
                    kind = "cpr" if "cpr" in party else "cvr"
                    node = etree.SubElement(dokument, _q(name), Type=kind.upper())
                    node.text = party[kind]
                    if party.get("name"):
                        node.set("Navn", party["name"])
            for link in p["cases"]:
                etree.SubElement(dokument, _q("Tilknytning"), SagID=link["case_external_id"],
                                 Rolle=link["role"])  # fmt: skip
