"""SF1470 v6 (Sags- og dokumentindeks) → the index's JSON wire format (``indexes.payloads``).

``import_map`` turns an ``ImporterSagDokumentIndeksInput`` into bulk items
(``{"kind", "record"}``, cases before documents, in document order), each with a map from
the JSON pointers it filled to the element (XPath, line) the value came from, so a
problem the ingestion engine finds names the element. ``removal_ids`` reads the case
ids of a ``FjernSagDokumentIndeksInput``. The mapping table is docs/sf1470.md.

Relations (parts, actors, classes, journal posts) are told apart by their ``Rolle``,
which SF1470 gives as a UUID of KOMBIT's Fælleskommunalt Klassifikationssystem. These
UUIDs are the municipality's and KOMBIT's data, not the standard's, so the roles are
recognised by the identifiers in ``ROLES`` (Overblik's own URNs, for systems and tests
without Klassifikation) plus any the operators list in ``INDEXES_SF1470_ROLE_IDS``
(``{"<uuid or urn>": "<role>"}``). A relation of a role Overblik does not carry is
ignored; so is one whose role it does not recognise.
"""

import datetime
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from lxml import etree

from indexes.kombit.schemas import element_xpath

SDI = "urn:oio:sts:sagdok:sagdokumentindeks:6"
NS = {
    "sdi": SDI,
    "sag": "urn:oio:sts:sagdok:sag:6",
    "di": "urn:oio:sts:sagdok:dokumentindeks:6",
    "si": "urn:oio:sts:sagdok:sagindeks:6",
    "sd": "urn:oio:sagdok:3.0.0",
    "gd": "urn:oio:sts:generelledefinitioner:6",
}
IMPORT = f"{{{SDI}}}ImporterSagDokumentIndeksInput"
REMOVE = f"{{{SDI}}}FjernSagDokumentIndeksInput"
DANISH_TIME = ZoneInfo("Europe/Copenhagen")

ROLE_URN_PREFIX = "urn:overblik:sf1470:rolle:"
# Role → its name in SF1470's guidance (anvisninger); the URN is ROLE_URN_PREFIX + role.
ROLES = {
    "primaer-part": "Primær part",
    "sekundaer-part": "Sekundær part",
    "ydelsesmodtager": "Ydelsesmodtager",
    "ejer": "Ejer",
    "ansvarlig": "Ansvarlig",
    "primaer-behandler": "Primær behandler",
    "bopaelskommune": "Bopælskommune",
    "primaer-klasse": "Primær klasse",
    "handlingsklasse": "Handlingsklasse",
    "visningsklasse": "Visningsklasse",
    "afgoerelsesklasse": "Afgørelsesklasse",
    "tilakteret": "Tilakteret",
    "vedlagt": "Vedlagt",
    "journalnotat": "Journalnotat",
    "parter": "Parter",
    "kopiparter": "Kopiparter",
}
JOURNAL_ROLES = {"tilakteret": "Tilakteret", "vedlagt": "Vedlagt", "journalnotat": "Journalnotat"}
# The Visningsklasse that hides a case or document from the citizen: its ReferenceID, or
# (for systems that only fill the extension fields) its Klassetitel.
HIDDEN_CLASS_URN = "urn:overblik:sf1470:visningsklasse:visning-undtaget-for-borger"
HIDDEN_CLASS_TITLE = "visning undtaget for borger"
CPR_URN = "urn:oio:cpr-nr:"
CVR_URN = "urn:oio:cvr-nr:"


@dataclass
class Mapped:
    """One record mapped from XML: its kind, the JSON record and where each value came from."""

    kind: str
    record: dict
    element: etree._Element
    where: dict[str, etree._Element] = field(default_factory=dict)

    def locate(self, pointer: str) -> tuple[str, int | None]:
        """(XPath, line) of the element a JSON ``pointer`` into ``record`` came from.

        The longest mapped prefix wins; a pointer to a field the XML left out names the
        record's element (its ``Registrering`` for the fields that belong there).
        """
        parts = pointer.split("/")
        while parts:
            element = self.where.get("/".join(parts))
            if element is not None:
                return element_xpath(element), element.sourceline
            parts.pop()
        return element_xpath(self.element), self.element.sourceline


def _role_ids() -> dict[str, str]:
    ids = {f"{ROLE_URN_PREFIX}{role}": role for role in ROLES}
    for identifier, role in getattr(settings, "INDEXES_SF1470_ROLE_IDS", {}).items():
        ids[identifier.strip().lower()] = role
    return ids


def _text(element: etree._Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text


def _first(element: etree._Element, path: str) -> etree._Element | None:
    found = element.find(path, NS)
    return found


def _unik_id(element: etree._Element | None) -> str | None:
    """The UUID or URN of an ``sd:UnikIdType`` element."""
    if element is None:
        return None
    value = _text(_first(element, "sd:UUIDIdentifikator")) or _text(
        _first(element, "sd:URNIdentifikator")
    )
    return value.strip() if value is not None else None


def _timestamp(element: etree._Element | None) -> str | None:
    """An ``sd:TidspunktType``: the time as delivered, or None for ``GraenseIndikator`` (∞)."""
    if element is None:
        return None
    return _text(_first(element, "sd:TidsstempelDatoTid"))


def _relations(parent: etree._Element | None, tag: str) -> list[tuple[str | None, etree._Element]]:
    """(role, element) of the relations ``tag`` under ``parent`` (role None: not recognised)."""
    if parent is None:
        return []
    ids = _role_ids()
    out = []
    for relation in parent.findall(tag, NS):
        role_id = _unik_id(_first(relation, "gd:Rolle"))
        out.append((ids.get(role_id.lower()) if role_id else None, relation))
    return out


def _extension(relation: etree._Element, name: str) -> etree._Element | None:
    """A field of the relation's local extension (``LokalUdvidelseListe/<any>/<name>``)."""
    extensions = _first(relation, "gd:LokalUdvidelseListe")
    if extensions is None:
        return None
    for extension in extensions:
        for child in extension:
            if etree.QName(child).localname == name:
                return child
    return None


def _is_hiding_class(relation: etree._Element) -> bool:
    reference = _unik_id(_first(relation, "gd:ReferenceID"))
    hidden_ids = {HIDDEN_CLASS_URN} | {
        value.strip().lower() for value in getattr(settings, "INDEXES_SF1470_HIDDEN_CLASS_IDS", ())
    }
    if reference and reference.lower() in hidden_ids:
        return True
    title = _text(_extension(relation, "Klassetitel"))
    return bool(title) and title.strip().casefold() == HIDDEN_CLASS_TITLE


def _last_registration(record: etree._Element, tag: str) -> etree._Element:
    registrations = record.findall(tag, NS)
    return registrations[-1]  # the XSD requires at least one


def _date_of(value: str | None) -> str | None:
    """The Danish calendar date of an ``xs:dateTime`` (kept as given when it has no offset)."""
    if value is None:
        return None
    text = value.strip()
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text  # the engine names it (invalid_date)
    if moment.tzinfo is not None:
        moment = moment.astimezone(DANISH_TIME)
    return moment.date().isoformat()


class _Builder:
    def __init__(self, kind: str, element: etree._Element, municipality: str):
        self.mapped = Mapped(kind=kind, record={"municipality": municipality}, element=element)

    def put(self, pointer: str, value, source: etree._Element | None) -> None:
        keys = pointer.strip("/").split("/")
        target = self.mapped.record
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        target[keys[-1]] = value
        if source is not None:
            self.mapped.where[pointer] = source

    def at(self, pointer: str, source: etree._Element | None) -> None:
        if source is not None:
            self.mapped.where[pointer] = source


def _party(builder: _Builder, relation: etree._Element) -> None:
    reference_element = _first(relation, "gd:ReferenceID")
    reference = _unik_id(reference_element) or ""
    # PersonID, BorgerID, P-nummer, a name: the index identifies a party by CPR or CVR
    # only, so the engine refuses the empty party, naming this relation.
    builder.put("/party", {}, relation)
    if reference.lower().startswith(CPR_URN):
        builder.put("/party/cpr", reference[len(CPR_URN) :], reference_element)
    elif reference.lower().startswith(CVR_URN):
        builder.put("/party/cvr", reference[len(CVR_URN) :], reference_element)


def _named_party(
    relation: etree._Element,
) -> tuple[dict, dict[str, etree._Element]] | None:
    """A party relation (Dokumentpart, Sagspart) as ``{cpr|cvr, name?}`` and the element of
    each key, or None: a party named only otherwise (PersonID, BorgerID, P-nummer,
    ``urn:oio:fuldtnavn``) is one the index cannot identify."""
    reference_element = _first(relation, "gd:ReferenceID")
    reference = _unik_id(reference_element) or ""
    if reference.lower().startswith(CPR_URN):
        key, number = "cpr", reference[len(CPR_URN) :]
    elif reference.lower().startswith(CVR_URN):
        key, number = "cvr", reference[len(CVR_URN) :]
    else:
        return None
    party, where = {key: number}, {"": relation, f"/{key}": reference_element}
    name = _extension(relation, "FuldtNavn")
    if name is not None and (_text(name) or "").strip():
        party["name"] = _text(name).strip()
        where["/name"] = name
    return party, where


def _document_party(builder: _Builder, pointer: str, relation: etree._Element) -> None:
    """A Dokumentpart *Parter* as the document's sender or recipient: a CPR or CVR URN and
    the ``FuldtNavn`` of its extension. A party named only otherwise is left out; data
    quality then lists the letter as one without a sender or recipient."""
    named = _named_party(relation)
    if named is None:
        return
    party, where = named
    builder.put(pointer, party, None)
    for suffix, element in where.items():
        builder.at(f"{pointer}{suffix}", element)


# Bopælskommune's BrugervendtNoegle: the kommunekode, written "461" or "0461".
MUNICIPALITY_KEY = re.compile(r"0?([0-9]{3})")


def _case_parties(builder: _Builder, relations: etree._Element | None) -> None:
    """Sagspart *Sekundær part* (0..*) and *Ydelsesmodtager* (0..1), Sagsaktør
    *Bopælskommune* (0..1). A party the index cannot identify (no CPR or CVR URN) is left
    out, not refused (which would drop the case); a Bopælskommune given by UUID alone
    (no kommunekode in its BrugervendtNoegle) too."""
    secondary: list[dict] = []
    builder.put("/secondary_parties", secondary, None)
    builder.put("/benefit_recipient", None, None)
    builder.put("/residence_municipality", None, None)
    for role, relation in _relations(relations, "sag:Sagspart"):
        if role not in ("sekundaer-part", "ydelsesmodtager"):
            continue
        named = _named_party(relation)
        if named is None:
            continue
        party, where = named
        if role == "sekundaer-part":
            pointer = f"/secondary_parties/{len(secondary)}"
            secondary.append(party)
        elif builder.mapped.record["benefit_recipient"] is None:
            pointer = "/benefit_recipient"
            builder.put(pointer, party, None)
        else:
            continue
        for suffix, element in where.items():
            builder.at(f"{pointer}{suffix}", element)
    for role, relation in _relations(relations, "sag:Sagsaktoer"):
        if role != "bopaelskommune":
            continue
        key = _extension(relation, "BrugervendtNoegle")
        code = MUNICIPALITY_KEY.fullmatch((_text(key) or "").strip())
        if code is not None:
            builder.put("/residence_municipality", code.group(1), key)
            break


def case_map(sag: etree._Element, *, municipality: str) -> tuple[Mapped, list]:
    """One ``SagIndeks`` as a case record, and its journal posts (document id, role, element)."""
    b = _Builder("case", sag, municipality)
    id_element = _first(sag, "sd:UUIDIdentifikator")
    b.put("/external_id", (_text(id_element) or "").strip(), id_element)
    registration = _last_registration(sag, "sag:Registrering")
    b.at("", registration)
    stamp = _first(registration, "sd:Tidspunkt")
    if stamp is not None:
        b.put("/source_timestamp", _text(stamp), stamp)
    else:
        b.at("/source_timestamp", registration)
    attributes = _first(registration, "sag:AttributListe")
    properties = attributes.findall("sag:Egenskaber", NS) if attributes is not None else []
    egenskaber = properties[-1] if properties else None
    if egenskaber is not None:
        number = _first(egenskaber, "sag:Sagsnummer")
        if number is None:
            number = _first(egenskaber, "sag:BrugervendtNoegle")
        if number is not None:
            b.put("/case_number", _text(number) or "", number)
        for name, pointer in (("sag:Titel", "/title"), ("sag:Beskrivelse", "/description")):
            element = _first(egenskaber, name)
            if element is not None:
                b.put(pointer, _text(element) or "", element)
        alternative = _first(egenskaber, "sag:OffentlighedUndtaget/sd:TitelAlternativTekst")
        if alternative is not None:
            b.put("/alternative_title", _text(alternative) or "", alternative)
    index_properties = (
        attributes.find("gd:LokalUdvidelseListe/si:SagIndeksEgenskaber", NS)
        if attributes is not None
        else None
    )
    created = None
    if index_properties is not None:
        status = _first(index_properties, "si:Sagsstatus")
        if status is not None:
            b.put("/source_status_text", _text(status) or "", status)
        sensitivity = _first(index_properties, "si:Foelsomhed")
        if sensitivity is not None:
            b.put("/sensitivity", _text(sensitivity), sensitivity)
        created = _first(index_properties, "si:OprettetTidspunkt")
    # Tilstand: the whole Fremdrift history.
    progress = []
    states = _first(registration, "sag:TilstandListe")
    for step in states.findall("sag:Fremdrift", NS) if states is not None else []:
        index = len(progress)
        status = _first(step, "sag:FremdriftStatusKode")
        effect = _first(step, "sag:Virkning")
        start = _first(effect, "sd:FraTidspunkt") if effect is not None else None
        end = _first(effect, "sd:TilTidspunkt") if effect is not None else None
        progress.append({"status": _text(status), "from": _timestamp(start), "to": _timestamp(end)})
        b.at(f"/progress/{index}", step)
        b.at(f"/progress/{index}/status", status)
        b.at(f"/progress/{index}/from", start)
        b.at(f"/progress/{index}/to", end)
    b.put("/progress", progress, states)
    if created is not None:
        b.put("/created_on", _date_of(_text(created)), created)
    elif progress and progress[0]["from"]:
        # No OprettetTidspunkt: the case arose when its first Fremdrift period began.
        b.put("/created_on", _date_of(progress[0]["from"]), states)
    relations = _first(registration, "sag:RelationListe")
    b.put("/party", None, None)
    b.put("/hidden_from_citizen", False, None)
    for role, relation in _relations(relations, "sag:Sagspart"):
        if role == "primaer-part":
            _party(b, relation)
    _case_parties(b, relations)
    for role, relation in _relations(relations, "sag:Sagsaktoer"):
        name = _extension(relation, "FuldtNavn")
        if role == "ansvarlig" and name is not None:
            b.put("/responsible_unit", _text(name) or "", name)
        elif role == "primaer-behandler" and name is not None:
            b.put("/primary_caseworker", _text(name) or "", name)
    for role, relation in _relations(relations, "sag:Sagsklasse"):
        key = _extension(relation, "BrugervendtNoegle")
        if role == "primaer-klasse":
            b.put(
                "/kle_number",
                _text(key) if key is not None else None,
                key if key is not None else relation,
            )
        elif role == "handlingsklasse":
            b.put(
                "/facet",
                _text(key) if key is not None else None,
                key if key is not None else relation,
            )
        elif role == "afgoerelsesklasse" and key is not None:
            b.put("/decision_class", _text(key) or "", key)
        elif role == "visningsklasse" and _is_hiding_class(relation):
            b.put("/hidden_from_citizen", True, relation)
    related = []
    for _role, relation in _relations(relations, "sag:Sagsrelation"):
        reference = _first(relation, "gd:ReferenceID")
        b.at(f"/related_cases/{len(related)}", reference if reference is not None else relation)
        related.append(_unik_id(reference) or "")
    b.put("/related_cases", related, relations)
    journal = []
    for role, relation in _relations(relations, "sag:Journalpost"):
        if role in JOURNAL_ROLES:
            journal.append(
                (_unik_id(_first(relation, "gd:ReferenceID")), JOURNAL_ROLES[role], relation)
            )
    return b.mapped, journal


def document_map(dokument: etree._Element, *, municipality: str, journal: list) -> Mapped:
    """One ``DokumentIndeks`` as a document record; its cases are the journal posts naming it."""
    b = _Builder("document", dokument, municipality)
    id_element = _first(dokument, "sd:UUIDIdentifikator")
    external_id = (_text(id_element) or "").strip()
    b.put("/external_id", external_id, id_element)
    registration = _last_registration(dokument, "di:Registrering")
    b.at("", registration)
    stamp = _first(registration, "sd:Tidspunkt")
    if stamp is not None:
        b.put("/source_timestamp", _text(stamp), stamp)
    else:
        b.at("/source_timestamp", registration)
    attributes = _first(registration, "di:AttributListe")
    properties = attributes.findall("di:Egenskaber", NS) if attributes is not None else []
    egenskaber = properties[-1] if properties else None
    if egenskaber is not None:
        for name, pointer in (
            ("di:Titel", "/title"),
            ("di:BrevDato", "/letter_date"),
            ("di:Type", "/type"),
            ("di:Foelsomhed", "/sensitivity"),
        ):
            element = _first(egenskaber, name)
            if element is not None:
                b.put(
                    pointer,
                    (_text(element) or "").strip() if pointer != "/title" else _text(element) or "",
                    element,
                )
    states = _first(registration, "di:TilstandListe")
    steps = states.findall("di:Fremdrift", NS) if states is not None else []
    if steps:
        # The document's status now: the Fremdrift period without an end, else the last one.
        current = next(
            (
                step
                for step in steps
                if step.find("di:Virkning/sd:TilTidspunkt/sd:TidsstempelDatoTid", NS) is None
            ),
            steps[-1],
        )
        status = _first(current, "di:FremdriftStatusKode")
        b.put("/status", _text(status), status if status is not None else current)
    else:
        b.at("/status", registration)
    relations = _first(registration, "di:RelationListe")
    b.put("/hidden_from_citizen", False, None)
    for role, relation in _relations(relations, "di:Dokumentklasse"):
        key = _extension(relation, "BrugervendtNoegle")
        if role == "primaer-klasse" and key is not None:
            b.put("/kle_number", _text(key), key)
        elif role == "visningsklasse" and _is_hiding_class(relation):
            b.put("/hidden_from_citizen", True, relation)
    # SF1470 has one role, Parter, for "afsender eller modtager af dokumentet afhængig af,
    # om det er et indgående eller udgående dokument": the first such party is the
    # recipient of an outgoing letter and the sender of anything else.
    b.put("/sender", None, None)
    b.put("/recipient", None, None)
    outgoing = b.mapped.record.get("type") == "Brev, udgaaende"
    parties = [r for role, r in _relations(relations, "di:Dokumentpart") if role == "parter"]
    if parties:
        _document_party(b, "/recipient" if outgoing else "/sender", parties[0])
    cases = []
    for case_id, document_id, role, relation in journal:
        if document_id and document_id.lower() == external_id.lower():
            b.at(f"/cases/{len(cases)}", relation)
            cases.append({"case_external_id": case_id, "role": role})
    b.put("/cases", cases, None)
    b.at("/cases", dokument)
    return b.mapped


def import_map(root: etree._Element, *, municipality: str) -> list[Mapped]:
    """The records of an ``ImporterSagDokumentIndeksInput``: its cases, then its documents.

    A document belongs to the cases of the same request whose ``Journalpost`` names it
    (SF1470 keeps the link on the case); one no case names is refused by the engine
    (``cases``: at least one), naming the document.
    """
    cases, journal = [], []
    for sag in root.findall("sdi:SagIndeks", NS):
        mapped, posts = case_map(sag, municipality=municipality)
        cases.append(mapped)
        journal.extend(
            (mapped.record["external_id"], document_id, role, relation)
            for document_id, role, relation in posts
        )
    documents = [
        document_map(dokument, municipality=municipality, journal=journal)
        for dokument in root.findall("sdi:DokumentIndeks", NS)
    ]
    return cases + documents


def removal_ids(root: etree._Element) -> list[tuple[str, etree._Element]]:
    """The case ids (and their elements) of a ``FjernSagDokumentIndeksInput``, in order."""
    return [
        ((_unik_id(element) or "").strip(), element) for element in root.findall("sdi:SagUuid", NS)
    ]
