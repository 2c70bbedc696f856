"""FASIT's JSON event feed → index records (cases and letters)."""

import json

from indexes.feeds.adapters.base import Adapter, Delivery, Page, PageUnreadable, unmappable

STATUSES = {"OPRETTET": "Opstaaet", "OPLYST": "Oplyst", "AFGJORT": "Afgjort",
            "AFSLUTTET": "Afsluttet"}  # fmt: skip
SENSITIVITIES = {
    "IKKE_FORTROLIG": "IKKE_FORTROLIGE_DATA",
    "FORTROLIG": "FORTROLIGE_PERSONOPLYSNINGER",
    "FOELSOM": "FOELSOMME_PERSONOPLYSNINGER",
    "VIP": "VIP_SAGER",
}
DIRECTIONS = {
    "IND": ("Brev, indgaaende", "Tilakteret"),
    "UD": ("Brev, udgaaende", "Tilakteret"),
    "NOTAT": ("Internt Notat", "Journalnotat"),
    "INTERN": ("Internt Notat", "Tilakteret"),
    "PLAN": ("Plan", "Tilakteret"),
}
LETTER_STATUSES = {"MODTAGET": "Modtaget", "KLADDE": "Underudarbejdelse", "ENDELIG": "Endeligt"}
MAX_LIMIT = 500


class FasitAdapter(Adapter):
    key = "fasit_json"
    product = "FASIT"
    path = "fasit/v2/haendelser"
    label = "FASIT hændelsesfeed (JSON)"

    def request_params(self, *, cursor: str, limit: int) -> dict[str, str]:
        return {"fra": cursor, "antal": str(min(limit, MAX_LIMIT))}

    def page_parse(self, *, body: bytes, cursor: str, municipality: str, limit: int) -> Page:
        try:
            data = json.loads(body)
            events = data["haendelser"]
            next_token = data["naesteToken"]
            more = bool(data["flereHaendelser"])
            page_municipality = f"{int(data['kommunenr']):03d}"
        except (ValueError, KeyError, TypeError) as exc:
            raise PageUnreadable(f"FASIT-siden kan ikke læses ({type(exc).__name__})") from None
        if page_municipality != municipality:
            raise PageUnreadable(
                f"FASIT-siden er fra kommune {page_municipality}, ikke {municipality}"
            )
        if not isinstance(events, list) or not isinstance(next_token, str):
            raise PageUnreadable("FASIT-siden har ikke en liste af hændelser og et token")
        deliveries = [self._event(event, n, municipality) for n, event in enumerate(events)]
        return Page(deliveries=deliveries, next_cursor=next_token, has_more=more)

    def _event(self, event: dict, n: int, municipality: str) -> Delivery:
        kind = "case" if event.get("objekttype") == "SAG" else "document"
        body = event.get("sag") if kind == "case" else event.get("brev")
        external_id = str((body or {}).get("sagId" if kind == "case" else "brevId", ""))
        try:
            if kind == "case":
                payload = self._case(body, event["registreret"], municipality)
            else:
                payload = self._letter(body, event["registreret"], municipality)
        except (KeyError, TypeError, AttributeError) as exc:
            return unmappable(
                kind=kind,
                external_id=external_id,
                pointer=f"/haendelser/{n}",
                detail=f"{type(exc).__name__} {exc}"[:200],
            )
        return Delivery(kind=kind, external_id=external_id, payload=payload)

    def _case(self, sag: dict, registered: str, municipality: str) -> dict:
        cpr = (sag.get("borger") or {}).get("cprnr", "").replace("-", "")
        payload = {
            "external_id": sag["sagId"],
            "source_timestamp": registered,
            "municipality": municipality,
            "case_number": sag["sagsnummer"],
            "title": sag["overskrift"],
            "sensitivity": SENSITIVITIES[sag["foelsomhed"]],
            "hidden_from_citizen": bool(sag["skjultForBorger"]),
            "kle_number": sag["klassifikation"]["kle"],
            "facet": sag["klassifikation"]["handlingsfacet"],
            "responsible_unit": sag["jobcenter"]["enhed"],
            "primary_caseworker": sag["jobcenter"]["sagsbehandler"],
            "party": {"cpr": cpr} if cpr else None,
            "created_on": sag["oprettetDato"],
            "source_status_text": sag["statusTekst"],
            "progress": [_period(item) for item in sag["statusHistorik"]],
        }
        if sag.get("afgoerelsestype"):
            payload["decision_class"] = sag["afgoerelsestype"]
        if sag.get("afventerBorgerSiden"):
            payload["awaiting_party_since"] = sag["afventerBorgerSiden"]
        if sag.get("afventerBorgerFrist"):
            payload["awaiting_party_due"] = sag["afventerBorgerFrist"]
        if sag.get("afventerBorgerAarsag"):
            payload["awaiting_party_reason"] = sag["afventerBorgerAarsag"]
        # Other parties and the citizen's municipality of residence (issue 18).
        if sag.get("andreParter"):
            payload["secondary_parties"] = [_party_in(party) for party in sag["andreParter"]]
        if sag.get("ydelsesmodtager"):
            payload["benefit_recipient"] = _party_in(sag["ydelsesmodtager"])
        if (sag.get("bopaelskommune") or {}).get("kommunekode"):
            payload["residence_municipality"] = sag["bopaelskommune"]["kommunekode"]
        return payload

    def _letter(self, brev: dict, registered: str, municipality: str) -> dict:
        document_type, role = DIRECTIONS[brev["retning"]]
        return {
            "external_id": brev["brevId"],
            "source_timestamp": registered,
            "municipality": municipality,
            "title": brev["overskrift"],
            "letter_date": brev["brevdato"],
            "type": document_type,
            "status": LETTER_STATUSES[brev["status"]],
            "sensitivity": SENSITIVITIES[brev["foelsomhed"]],
            "kle_number": brev["klassifikation"]["kle"],
            "sender": _party_in(brev.get("afsender")),
            "recipient": _party_in(brev.get("modtager")),
            "cases": [{"case_external_id": brev["sagId"], "role": role}],
        }


def _party_in(party: dict | None) -> dict | None:
    """FASIT's ``afsender``/``modtager`` (``cprnr`` or ``cvrnr``, ``navn``) as a document
    party; the number is passed on as given, so the index names a bad one."""
    if not party:
        return None
    out = {}
    if party.get("cprnr"):
        out["cpr"] = party["cprnr"].replace("-", "")
    if party.get("cvrnr"):
        out["cvr"] = party["cvrnr"]
    if party.get("navn"):
        out["name"] = party["navn"]
    return out


def _period(item: dict) -> dict:
    period = {"status": STATUSES[item["status"]], "from": item["fra"]}
    if item.get("til"):
        period["to"] = item["til"]
    return period
