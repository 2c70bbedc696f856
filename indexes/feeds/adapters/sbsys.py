"""SBSYS's XML export → index records (cases and documents).

Read with lxml with entities, DTDs and network access off (BRIEF: XML parsed
safely); a page that declares a DTD is refused outright.
"""

from lxml import etree

from indexes.feeds.adapters.base import Adapter, Delivery, Page, PageUnreadable, unmappable

NAMESPACE = "urn:sbsys:eksport:1"
NS = {"s": NAMESPACE}
MAX_LIMIT = 1000
SENSITIVITIES = {
    "Ikke fortrolige data": "IKKE_FORTROLIGE_DATA",
    "Fortrolige personoplysninger": "FORTROLIGE_PERSONOPLYSNINGER",
    "Følsomme personoplysninger": "FOELSOMME_PERSONOPLYSNINGER",
    "VIP": "VIP_SAGER",
}
DOCUMENT_TYPES = {
    "Indgående": "Brev, indgaaende",
    "Udgående": "Brev, udgaaende",
    "Internt notat": "Internt Notat",
    "Plan": "Plan",
}
DOCUMENT_STATUSES = {
    "Modtaget": "Modtaget",
    "Under udarbejdelse": "Underudarbejdelse",
    "Endeligt": "Endeligt",
}


def safe_parser() -> etree.XMLParser:
    """No entity expansion, no DTD loading or validation, no network, no huge trees."""
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _q(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


class SbsysAdapter(Adapter):
    key = "sbsys_xml"
    product = "SBSYS"
    path = "sbsys/eksport"
    label = "SBSYS natlig eksport (XML)"

    def request_params(self, *, cursor: str, limit: int) -> dict[str, str]:
        last = int(cursor or 0)
        return {"fraLoebenummer": str(last + 1), "maks": str(min(limit, MAX_LIMIT))}

    def page_parse(self, *, body: bytes, cursor: str, municipality: str, limit: int) -> Page:
        try:
            root = etree.fromstring(body, parser=safe_parser())
        except etree.XMLSyntaxError as exc:
            raise PageUnreadable(
                f"SBSYS-eksporten er ikke gyldig XML (linje {exc.lineno})"
            ) from None
        if root.getroottree().docinfo.doctype:
            raise PageUnreadable("SBSYS-eksporten har en DTD; det tillades ikke")
        if root.tag != _q("SBSYSEksport"):
            raise PageUnreadable("SBSYS-eksporten har ikke roden SBSYSEksport")
        if root.get("kommunekode") != municipality:
            raise PageUnreadable(
                f"SBSYS-eksporten er fra kommune {root.get('kommunekode')}, ikke {municipality}"
            )
        try:
            first = int(root.get("fraLoebenummer", ""))
            last = int(root.get("tilLoebenummer", ""))
        except ValueError:
            raise PageUnreadable("SBSYS-eksporten mangler løbenumre") from None
        if first != int(cursor or 0) + 1:
            raise PageUnreadable(
                f"SBSYS-eksporten starter ved {first}, ikke {int(cursor or 0) + 1}"
            )
        changes = root.findall("s:Aendring", NS)
        if len(changes) != last - first + 1:
            raise PageUnreadable("SBSYS-eksporten har ikke alle løbenumre; den er afkortet")
        deliveries = [self._change(change, n, municipality) for n, change in enumerate(changes)]
        return Page(
            deliveries=deliveries,
            next_cursor=str(max(last, first - 1)),
            has_more=root.get("flere") == "true",
        )

    def _change(self, change, n: int, municipality: str) -> Delivery:
        sag = change.find("s:Sag", NS)
        kind = "case" if sag is not None else "document"
        element = sag if sag is not None else change.find("s:Dokument", NS)
        if element is None:
            return unmappable(kind="document", external_id="", pointer=f"/Aendring/{n}",
                              detail="hverken Sag eller Dokument")  # fmt: skip
        external_id = element.get("SagID" if kind == "case" else "DokumentID", "")
        try:
            if kind == "case":
                payload = self._case(element, change.get("tidspunkt"), municipality)
            else:
                payload = self._document(element, change.get("tidspunkt"), municipality)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            return unmappable(kind=kind, external_id=external_id, pointer=f"/Aendring/{n}",
                              detail=f"{type(exc).__name__} {exc}"[:200])  # fmt: skip
        return Delivery(kind=kind, external_id=external_id, payload=payload)

    def _case(self, sag, registered: str, municipality: str) -> dict:
        def text(name: str) -> str:
            node = sag.find(f"s:{name}", NS)
            if node is None:
                raise KeyError(name)
            return node.text or ""

        key = sag.find("s:Journalnoegle", NS)
        party_node = sag.find("s:Primaerpart", NS)
        party = None
        if party_node is not None and (party_node.text or "").strip():
            party = {party_node.get("Type").lower(): party_node.text.strip()}
        responsible = sag.find("s:Ansvarlig", NS)
        payload = {
            "external_id": sag.get("SagID"),
            "source_timestamp": registered,
            "municipality": municipality,
            "case_number": text("Nummer"),
            "title": text("Titel"),
            "sensitivity": SENSITIVITIES[text("Foelsomhed")],
            "hidden_from_citizen": {"ja": True, "nej": False}[text("SkjultForBorger")],
            "kle_number": key.get("Emne"),
            "facet": key.get("Handlingsfacet"),
            "responsible_unit": responsible.get("Enhed"),
            "primary_caseworker": responsible.get("Behandler"),
            "party": party,
            "created_on": text("Oprettet"),
            "source_status_text": text("Sagsstatus"),
            "progress": [
                {"status": item.get("Status"), "from": item.get("Fra")}
                | ({"to": item.get("Til")} if item.get("Til") else {})
                for item in sag.findall("s:Fremdrift/s:Periode", NS)
            ],
        }
        decision = sag.find("s:Afgoerelse", NS)
        if decision is not None and decision.text:
            payload["decision_class"] = decision.text
        awaiting = sag.find("s:AfventerPartFra", NS)
        if awaiting is not None and awaiting.text:
            payload["awaiting_party_since"] = awaiting.text.strip()
        return payload

    def _document(self, dokument, registered: str, municipality: str) -> dict:
        def text(name: str) -> str:
            node = dokument.find(f"s:{name}", NS)
            if node is None:
                raise KeyError(name)
            return node.text or ""

        return {
            "external_id": dokument.get("DokumentID"),
            "source_timestamp": registered,
            "municipality": municipality,
            "title": text("Titel"),
            "letter_date": text("Brevdato"),
            "type": DOCUMENT_TYPES[text("Dokumenttype")],
            "status": DOCUMENT_STATUSES[text("Status")],
            "sensitivity": SENSITIVITIES[text("Foelsomhed")],
            "kle_number": dokument.find("s:Journalnoegle", NS).get("Emne"),
            "sender": _party(dokument.find("s:Afsender", NS)),
            "recipient": _party(dokument.find("s:Modtager", NS)),
            "cases": [
                {"case_external_id": link.get("SagID"), "role": link.get("Rolle")}
                for link in dokument.findall("s:Tilknytning", NS)
            ],
        }


def _party(node) -> dict | None:
    """SBSYS's ``Afsender``/``Modtager`` (the number as text, ``Type`` CPR or CVR, ``Navn``)
    as a document party; an unknown type is passed on empty, so the index names it."""
    if node is None:
        return None
    out = {}
    kind = (node.get("Type") or "").lower()
    if kind in ("cpr", "cvr"):
        out[kind] = (node.text or "").strip()
    if node.get("Navn"):
        out["name"] = node.get("Navn")
    return out
