"""FASIT (the jobcentre system): follow-up and benefit cases with letters; a JSON event feed.

Its habits: events ("hændelser") with an opaque continuation token; municipality
as a four-digit "0461"; CPR with a dash and, when missing, an empty string;
status history with its own codes (OPRETTET … AFSLUTTET); letters by direction
(IND, UD, NOTAT, INTERN, PLAN) and status (KLADDE, ENDELIG, MODTAGET).
"""

import base64
import binascii
import json

from simulators.catalogue import FASIT
from simulators.systems.base import (
    Draft,
    Simulator,
    SimulatorRequestError,
    case_versions,
    iso,
    sensitivity_of,
    wait_details,
)
from simulators.systems.letters import letters_for
from simulators.world import Engagement

MAX_PAGE = 500
STATUS_CODES = {"Opstaaet": "OPRETTET", "Oplyst": "OPLYST", "Afgjort": "AFGJORT",
                "Afsluttet": "AFSLUTTET"}  # fmt: skip
SENSITIVITY_CODES = {
    "IKKE_FORTROLIGE_DATA": "IKKE_FORTROLIG",
    "FORTROLIGE_PERSONOPLYSNINGER": "FORTROLIG",
    "FOELSOMME_PERSONOPLYSNINGER": "FOELSOM",
    "VIP_SAGER": "VIP",
}
DIRECTIONS = {
    ("Brev, indgaaende", "Tilakteret"): "IND",
    ("Brev, udgaaende", "Tilakteret"): "UD",
    ("Internt Notat", "Journalnotat"): "NOTAT",
    ("Internt Notat", "Tilakteret"): "INTERN",
    ("Plan", "Tilakteret"): "PLAN",
}
LETTER_STATUS = {"Modtaget": "MODTAGET", "Underudarbejdelse": "KLADDE", "Endeligt": "ENDELIG"}


def fasit_case_id(engagement: Engagement) -> str:
    return f"FAS-{engagement.number:07d}"


def fasit_case_number(engagement: Engagement) -> str:
    """FASIT's case number, which the payments system quotes on its grants."""
    return f"{engagement.opened.year}-{engagement.number:06d}"


def token_encode(position: int) -> str:
    return base64.urlsafe_b64encode(f"fasit:{position}".encode()).decode().rstrip("=")


def token_decode(token: str) -> int:
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        prefix, position = raw.split(":")
        if prefix != "fasit" or int(position) < 0:
            raise ValueError
        return int(position)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise SimulatorRequestError("ugyldigt token") from None


class FasitSimulator(Simulator):
    product = FASIT
    path = "fasit/v2/haendelser"
    media_type = "application/json"

    def drafts(self) -> list[Draft]:
        result: list[Draft] = []
        for engagement in self.world.engagements_of(FASIT):
            self._exempt = engagement.is_demo
            result.extend(self._case(engagement))
        return result

    def _case(self, engagement: Engagement) -> list[Draft]:
        kind = engagement.kind
        case_id = fasit_case_id(engagement)
        kle, kle_faults = self.kle_with_faults(
            kind=kind, key=kind.key, default=kind.kle, record=case_id
        )
        title, title_faults = self.title_with_faults(
            good=kind.title, record=case_id, wire_kind="case"
        )
        party, party_faults = self.party_for(engagement, record=case_id, wire_kind="case")
        unclosed = engagement.closed is not None and self.has_fault("unclosed", "case", case_id)
        faults = kle_faults + title_faults + party_faults + (("unclosed",) if unclosed else ())
        base = {
            "external_id": case_id,
            "municipality": self.municipality,
            "case_number": fasit_case_number(engagement),
            "title": title,
            "sensitivity": sensitivity_of(kind),
            "hidden_from_citizen": engagement.hidden,
            "kle_number": kle,
            "facet": "G01",
            "responsible_unit": f"Jobcenter {self.municipality_name}, {kind.unit}",
            "primary_caseworker": self.caseworker(engagement),
            "party": party,
            "created_on": engagement.opened.date().isoformat(),
            **self.case_parties(engagement),
        }
        status_text = {
            "Opstaaet": "Oprettet",
            "Oplyst": "Oplysninger indhentet",
            "Afgjort": "Bevilget" if engagement.granted else "Afslag givet",
            "Afsluttet": "Afsluttet",
        }
        drafts = []
        for moment, status, history, awaiting in case_versions(engagement, unclosed=unclosed):
            payload = dict(
                base,
                source_timestamp=iso(moment),
                source_status_text=status_text[status],
                progress=history,
            )
            if status in ("Afgjort", "Afsluttet"):
                payload["decision_class"] = "Bevilling" if engagement.granted else "Afslag"
            if awaiting is not None:
                payload["awaiting_party_since"] = iso(awaiting)
                payload.update(wait_details(kind, status, awaiting))
            drafts.append(Draft("case", case_id, payload, faults))
        for letter in letters_for(engagement):
            letter_id = f"{case_id}-{letter.suffix}"
            letter_title, letter_faults = self.title_with_faults(
                good=letter.title, record=letter_id, wire_kind="document"
            )
            sender, recipient, party_faults = self.letter_parties(
                engagement, document_type=letter.type, record=letter_id
            )
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
                    "cases": [{"case_external_id": case_id, "role": letter.role}],
                }
                drafts.append(
                    Draft("document", letter_id, payload, letter_faults + party_faults + kle_faults)
                )
        return drafts

    # --- FASIT's wire format ---------------------------------------------------------

    def page(self, *, params, now) -> bytes:
        position = token_decode(params.get("fra", ""))
        limit = min(self._int_param(params, "antal", 100, low=1), MAX_PAGE)
        visible = self.visible_count(now)
        chosen = self.log[position : min(position + limit, visible)]
        following = position + len(chosen)
        body = {
            "kommunenr": f"{int(self.municipality):04d}",
            "antal": len(chosen),
            "haendelser": [self._event(change) for change in chosen],
            "naesteToken": token_encode(following),
            "flereHaendelser": following < visible,
        }
        return json.dumps(body, ensure_ascii=False).encode()

    def _event(self, change) -> dict:
        p = change.payload
        event = {
            "haendelsesId": change.seq + 1,
            "registreret": p["source_timestamp"],
            "objekttype": "SAG" if change.kind == "case" else "BREV",
        }
        if change.kind == "case":
            party = p["party"] or {}
            cpr = party.get("cpr", "")
            event["sag"] = {
                "sagId": p["external_id"],
                "sagsnummer": p["case_number"],
                "overskrift": p["title"],
                "klassifikation": {"kle": p["kle_number"], "handlingsfacet": p["facet"]},
                "borger": {"cprnr": f"{cpr[:6]}-{cpr[6:]}" if cpr else ""},
                "foelsomhed": SENSITIVITY_CODES[p["sensitivity"]],
                "skjultForBorger": p["hidden_from_citizen"],
                "jobcenter": {
                    "enhed": p["responsible_unit"],
                    "sagsbehandler": p["primary_caseworker"],
                },
                "oprettetDato": p["created_on"],
                "statusTekst": p["source_status_text"],
                "afgoerelsestype": p.get("decision_class"),
                # FASIT's "afventer borger": null when the jobcentre is not waiting.
                "afventerBorgerSiden": p.get("awaiting_party_since"),
                # What the jobcentre waits for, and by when (null when not waiting).
                "afventerBorgerFrist": p.get("awaiting_party_due"),
                "afventerBorgerAarsag": p.get("awaiting_party_reason"),
                # FASIT's other parties (issue 18): absent when there are none.
                **_other_parties_out(p),
                "statusHistorik": [
                    {
                        "status": STATUS_CODES[period["status"]],
                        "fra": period["from"],
                        "til": period.get("to"),
                    }
                    for period in p["progress"]
                ],
            }
        else:
            (link,) = p["cases"]
            event["brev"] = {
                "brevId": p["external_id"],
                "sagId": link["case_external_id"],
                "overskrift": p["title"],
                "brevdato": p["letter_date"],
                "retning": DIRECTIONS[(p["type"], link["role"])],
                "status": LETTER_STATUS[p["status"]],
                "klassifikation": {"kle": p["kle_number"]},
                "foelsomhed": SENSITIVITY_CODES[p["sensitivity"]],
                # FASIT's afsender/modtager: null when the letter has none.
                "afsender": _party_out(p.get("sender")),
                "modtager": _party_out(p.get("recipient")),
            }
        return event


def _party_out(party: dict | None) -> dict | None:
    """A letter's party in FASIT's form: ``{"cprnr": "DDMMYY-SSSS"}`` or ``{"cvrnr"}``, and
    ``navn``."""
    if not party:
        return None
    out = (
        {"cprnr": f"{party['cpr'][:6]}-{party['cpr'][6:]}"}
        if "cpr" in party
        else {"cvrnr": party["cvr"]}
    )
    if party.get("name"):
        out["navn"] = party["name"]
    return out


def _other_parties_out(p: dict) -> dict:
    """FASIT's ``andreParter``, ``ydelsesmodtager`` and ``bopaelskommune`` of a case, each
    only when given."""
    out: dict = {}
    if p.get("secondary_parties"):
        out["andreParter"] = [_party_out(party) for party in p["secondary_parties"]]
    if p.get("benefit_recipient"):
        out["ydelsesmodtager"] = _party_out(p["benefit_recipient"])
    if p.get("residence_municipality"):
        out["bopaelskommune"] = {"kommunekode": p["residence_municipality"]}
    return out
