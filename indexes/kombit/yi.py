"""YI v6 (Ydelsesindeks) → the index's JSON wire format: grants and payments.

``import_map`` turns an ``ImporterYdelseIndeksInput`` into bulk items (grants before
payments, in document order), each with the element every value came from, as
``indexes.kombit.sf1470`` does for cases and documents. The mapping table and the
decisions (a grant's and a benefit's status, a benefit's kind) are in docs/sf1470.md,
"YI".
"""

from lxml import etree

from indexes.kombit.sf1470 import (
    CPR_URN,
    CVR_URN,
    Mapped,
    _Builder,
    _date_of,
    _role_ids,
    _text,
    _unik_id,
)

YI = "urn:oio:sts:ydelse:ydelseindeks:6"
NS = {
    "yi": YI,
    "bi": "urn:oio:sts:ydelse:bevillingindeks:6",
    "oei": "urn:oio:sts:ydelse:oekonomiskeffektueringindeks:6",
    "sd": "urn:oio:sagdok:3.0.0",
    "gd": "urn:oio:sts:generelledefinitioner:6",
}
IMPORT = f"{{{YI}}}ImporterYdelseIndeksInput"


def _find(element, path):
    return element.find(path, NS) if element is not None else None


def _status(registration: etree._Element) -> tuple[str, etree._Element | None]:
    """YI v6 has a status code type but no element that carries it: a registration whose
    ``LivscyklusKode`` is ``Passiveret`` is ``Passiv``, any other ``Aktiv``."""
    lifecycle = _find(registration, "sd:LivscyklusKode")
    if lifecycle is not None and (_text(lifecycle) or "").strip() == "Passiveret":
        return "Passiv", lifecycle
    return "Aktiv", lifecycle


def _put_text(b: _Builder, pointer: str, element, *, date: bool = False) -> None:
    if element is not None:
        value = _text(element) or ""
        b.put(pointer, _date_of(value) if date else value, element)


def _recipient(b: _Builder, part: etree._Element) -> None:
    """A Bevillingspart of the role *Ydelsesmodtager* as the grant's ``recipient``: a CPR or
    CVR URN and its ``FuldtNavn``. Named otherwise (PersonID, BorgerID, P-nummer, a name)
    it is left out, as a party the index cannot identify (not refused: that would drop the
    grant and the citizen's benefits)."""
    reference = _find(part, "gd:ReferenceID")
    value = _unik_id(reference) or ""
    if value.lower().startswith(CPR_URN):
        key, number = "cpr", value[len(CPR_URN) :]
    elif value.lower().startswith(CVR_URN):
        key, number = "cvr", value[len(CVR_URN) :]
    else:
        return
    recipient = {key: number}
    b.put("/recipient", recipient, None)
    b.at("/recipient", part)
    b.at(f"/recipient/{key}", reference)
    name = _find(part, "bi:FuldtNavn")
    if name is not None and (_text(name) or "").strip():
        recipient["name"] = _text(name).strip()
        b.at("/recipient/name", name)


def grant_map(bevilling: etree._Element, *, municipality: str) -> Mapped:
    b = _Builder("grant", bevilling, municipality)
    id_element = _find(bevilling, "sd:UUIDIdentifikator")
    b.put("/external_id", (_text(id_element) or "").strip(), id_element)
    registration = bevilling.findall("bi:Registrering", NS)[-1]
    b.at("", registration)
    stamp = _find(registration, "sd:Tidspunkt")
    if stamp is not None:
        b.put("/source_timestamp", _text(stamp), stamp)
    status, status_element = _status(registration)
    b.put("/status", status, status_element)
    attributes = _find(registration, "bi:AttributListe")
    properties = attributes.findall("bi:Egenskaber", NS) if attributes is not None else []
    if properties:
        egenskaber = properties[-1]
        _put_text(b, "/case_number", _find(egenskaber, "bi:BrugervendtNoegle"))
        _put_text(b, "/start_on", _find(egenskaber, "bi:Bevillingstartdato"), date=True)
        _put_text(b, "/end_on", _find(egenskaber, "bi:Bevillingslutdato"), date=True)
        _put_text(b, "/reason", _find(egenskaber, "bi:Begrundelse"))
        _put_text(b, "/sensitivity", _find(egenskaber, "bi:Foelsomhed"))
    relations = _find(registration, "bi:RelationListe")
    b.put("/party", None, None)
    b.put("/recipient", None, None)
    roles, party_seen = _role_ids(), False
    for part in relations.findall("bi:Bevillingspart", NS) if relations is not None else []:
        role_id = _unik_id(_find(part, "gd:Rolle"))
        if role_id and roles.get(role_id.lower()) == "ydelsesmodtager":
            if b.mapped.record["recipient"] is None:
                _recipient(b, part)
            continue
        if party_seen:
            continue  # the index carries one party: the first other Bevillingspart
        party_seen = True
        reference = _find(part, "gd:ReferenceID")
        value = _unik_id(reference) or ""
        b.put("/party", {}, part)
        if value.lower().startswith(CPR_URN):
            b.put("/party/cpr", value[len(CPR_URN) :], reference)
    for sag in relations.findall("bi:Bevillingssag", NS) if relations is not None else []:
        number = _find(sag, "bi:BrugervendtNoegle")
        if number is not None:
            _put_text(b, "/related_case_number", number)
        else:
            reference = _find(sag, "gd:ReferenceID")
            b.put("/related_case", _unik_id(reference) or "", reference)
        break
    benefits = []
    for index, ydelse in enumerate(
        attributes.findall("bi:BevilgetYdelse", NS) if attributes is not None else []
    ):
        benefits.append(_benefit(b, f"/benefits/{index}", ydelse, status))
        b.at(f"/benefits/{index}", ydelse)
    b.put("/benefits", benefits, attributes)
    return b.mapped


def _benefit(b: _Builder, pointer: str, ydelse: etree._Element, status: str) -> dict:
    benefit: dict = {"status": status}

    def put(name: str, element, *, date: bool = False, value=None):
        if element is None:
            return
        benefit[name] = (
            value
            if value is not None
            else (_date_of(_text(element)) if date else _text(element) or "")
        )
        b.at(f"{pointer}/{name}", element)

    put("external_id", _find(ydelse, "bi:Id"))
    name = _find(ydelse, "bi:Navn")
    put("name", name if name is not None else _find(ydelse, "bi:Ydelse/bi:Ydelsesnavn"))
    put("kle_number", _find(ydelse, "bi:Ydelse/bi:Klassifikation/bi:BrugervendtNoegle"))
    put("start_on", _find(ydelse, "bi:BevilgetYdelseStartdato"), date=True)
    put("end_on", _find(ydelse, "bi:BevilgetYdelseSlutdato"), date=True)
    repayable = _find(ydelse, "bi:Tilbagebetalingspligtig")
    put("repayable", repayable, value=(_text(repayable) or "").strip() in ("true", "1"))
    put("description", _find(ydelse, "bi:Begrundelse"))
    put("message", _find(ydelse, "bi:Meddelelse"))
    plans = ydelse.findall("bi:OekonomiskEffektueringsplan", NS)
    benefit["kind"] = "oekonomisk" if plans else "service"
    b.at(f"{pointer}/kind", plans[0] if plans else ydelse)
    if plans:
        plan_element = plans[-1]  # the plan in force: the last one
        plan: dict = {}
        for field, tag, date in (
            ("frequency", "bi:Beregningsfrekvens", False),
            ("timing", "bi:ForudBagud", False),
            ("payment_day", "bi:Dispositionsdag", False),
            ("amount", "bi:Ydelsesbeloeb", False),
            ("start_on", "bi:EffektueringsplanStartdato", True),
            ("end_on", "bi:EffektueringsplanSlutdato", True),
        ):
            element = _find(plan_element, tag)
            if element is not None:
                plan[field] = _date_of(_text(element)) if date else (_text(element) or "").strip()
                b.at(f"{pointer}/payment_plan/{field}", element)
        benefit["payment_plan"] = plan
        b.at(f"{pointer}/payment_plan", plan_element)
    return benefit


def payment_map(effektuering: etree._Element, *, municipality: str) -> Mapped:
    b = _Builder("payment", effektuering, municipality)
    id_element = _find(effektuering, "sd:UUIDIdentifikator")
    b.put("/external_id", (_text(id_element) or "").strip(), id_element)
    registration = effektuering.findall("oei:Registrering", NS)[-1]
    b.at("", registration)
    stamp = _find(registration, "sd:Tidspunkt")
    if stamp is not None:
        b.put("/source_timestamp", _text(stamp), stamp)
    attributes = _find(registration, "oei:AttributListe")
    properties = attributes.findall("oei:Egenskaber", NS) if attributes is not None else []
    if properties:
        egenskaber = properties[-1]
        _put_text(b, "/disposal_date", _find(egenskaber, "oei:Dispositionsdato"), date=True)
        for pointer, tag in (
            ("/gross_amount", "oei:SamletBruttobeloeb"),
            ("/amount_after_tax", "oei:BeloebEfterSkatATP"),
            ("/amount_sent", "oei:BeloebSendtTilUdbetaling"),
            ("/amount_paid", "oei:BeloebUdbetalt"),
        ):
            element = _find(egenskaber, tag)
            if element is not None:
                b.put(pointer, (_text(element) or "").strip(), element)
        _put_text(b, "/paying_office", _find(egenskaber, "oei:Udbetalingsafdeling"))
    relations = _find(registration, "oei:RelationListe")
    links = (
        relations.findall("oei:OekonomiskYdelseEffektueringRelation", NS)
        if relations is not None
        else []
    )
    if links:
        # The index holds a payment of one granted benefit: the first relation's.
        link = links[0]
        # The grant: BevilgetYdelseRef's UUID (the Bevilling), else the relation's ReferenceID.
        reference = _find(link, "oei:BevilgetYdelseRef/sd:UUIDIdentifikator")
        if reference is not None:
            b.put("/grant_external_id", (_text(reference) or "").strip(), reference)
        else:
            reference = _find(link, "gd:ReferenceID")
            b.put(
                "/grant_external_id",
                _unik_id(reference) or "",
                reference if reference is not None else link,
            )
        _put_text(
            b, "/benefit_external_id", _find(link, "oei:BevilgetYdelseRef/oei:BevilgetYdelseId")
        )
        start = _find(link, "oei:YdelsesperiodeStartdato")
        end = _find(link, "oei:YdelsesperiodeSlutdato")
        b.put("/period", {}, link)
        if start is not None:
            b.put("/period/start", _date_of(_text(start)), start)
        if end is not None:
            b.put("/period/end", _date_of(_text(end)), end)
    return b.mapped


def import_map(root: etree._Element, *, municipality: str) -> list[Mapped]:
    """The records of an ``ImporterYdelseIndeksInput``: its grants, then its payments."""
    grants = [
        grant_map(e, municipality=municipality) for e in root.findall("yi:BevillingIndeks", NS)
    ]
    payments = [
        payment_map(e, municipality=municipality)
        for e in root.findall("yi:OekonomiskEffektueringIndeks", NS)
    ]
    return grants + payments
