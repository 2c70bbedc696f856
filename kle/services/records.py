"""Turning a validated KLE document into plain records, with the checks the XSDs cannot express.

The XSDs check shape and patterns. This module checks what they cannot: each
number is unique and sits under its own parent (02.00.10 under 02.00 under 02),
a facet sits under its own category (G01 under G), a deletion period is a
whole number of days, and — for the REST "fuld" format — the XSD 1.1 assertions
of KLE-REST-Emneplan-fuld.xsd that libxml2 cannot evaluate.
"""

import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import nh3
from lxml import etree

from kle.models import Publication, Subject
from kle.numbers import FACET_CATEGORY_CODES, facet_code_parse, subject_number_parse
from kle.services.documents import KleDocument, xs_date_parse
from kle.services.errors import KleImportError, Problem

# VejledningTekst is XHTML (VejledningKomponent): p with i, b, ul/ol/li.
GUIDANCE_TAGS = {"p", "ul", "ol", "li", "b", "i"}
_WHITESPACE = re.compile(r"\s+")
_AROUND_BLOCK_TAGS = re.compile(r"\s*(</?(?:p|ul|ol|li)>)\s*")
_EMPTY_PARAGRAPH = re.compile(r"<p></p>")
# xs:duration restricted to days and time: "5 aar noteres som P1825D" (XSD annotation).
_DURATION = re.compile(
    r"P(?:(?P<days>[0-9]+)D)?"
    r"(?:T(?:(?P<hours>[0-9]+)H)?(?:(?P<minutes>[0-9]+)M)?(?:(?P<seconds>[0-9]+(?:\.[0-9]+)?)S)?)?"
)
# KLE-REST-Emneplan-fuld.xsd, xs:assert on GruppeKomponent and EmneKomponent.
_UUID = re.compile(r"[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}")
_NOT_ACTIVE_MARKERS = ("[udgår", "[udgået", "[fagsystem-emne")

COMMON_FIELDS = (
    "title",
    "guidance_html",
    "created_on",
    "corrected_on",
    "expired_on",
    "moved_on",
    "successor_numbers",
    "filters",
    "legal_references",
)
# Column sizes of kle.models (Subject.title, Keyword.text, Keyword.order).
TITLE_MAX = 500
KEYWORD_MAX = 500
ORDER_MAX = 20
FACET_CATEGORY = "kategori"
FACET = "facet"


@dataclass
class ItemRecord:
    """One hovedgruppe, gruppe, emne, facet category or facet as the file states it."""

    key: str  # number ("02.00.10") or code ("G01", "G")
    level: str  # a Subject.Level value, FACET_CATEGORY or FACET
    parent_key: str | None
    line: int
    fields: dict[str, Any]
    # (order, text, facet code) in document order; None when the format has no Stikord.
    keywords: list[tuple[str, str, str]] | None = None


@dataclass
class RecordSet:
    """All records of one document, parents before children, and the fields its format carries."""

    kind: str
    records: list[ItemRecord]
    carried_fields: tuple[str, ...]
    warnings: list[str] = field(default_factory=list)
    is_excerpt: bool = False


def record_set_complete(*, excerpt: RecordSet, base: RecordSet, base_source: str) -> RecordSet:
    """An excerpt completed by a whole file of its kind, to be imported once.

    The excerpt's records win; the base gives every item the excerpt does not
    mention. Parents stay before children: the base's order, with the excerpt's
    new items after it (their parents are in the excerpt or the base).
    """
    mentioned = {record.key: record for record in excerpt.records}
    base_keys = {record.key for record in base.records}
    records = [mentioned.get(record.key, record) for record in base.records]
    records += [record for record in excerpt.records if record.key not in base_keys]
    completed = len(records) - len(excerpt.records)
    warnings = [w for w in excerpt.warnings if "(an excerpt)" not in w]
    warnings.append(
        f"an excerpt ({len(excerpt.records)} items), completed by {completed} items "
        f"of {base_source}"
    )
    return RecordSet(
        kind=excerpt.kind,
        records=records,
        carried_fields=excerpt.carried_fields,
        warnings=warnings,
    )


def records_build(*, document: KleDocument) -> RecordSet:
    """Build the records of a validated document; raise KleImportError listing every problem."""
    builder = _Builder(document)
    if document.kind == Publication.Kind.SUBJECT_PLAN:
        record_set = builder.subjects()
    else:
        record_set = builder.facets()
    if builder.problems:
        raise KleImportError(document.source, builder.problems)
    return record_set


def guidance_html_clean(vejledning_tekst: etree._Element | None) -> str:
    """VejledningTekst as HTML limited to p, ul, ol, li, b and i, whitespace collapsed."""
    if vejledning_tekst is None:
        return ""
    raw = (vejledning_tekst.text or "") + "".join(
        etree.tostring(child, encoding="unicode", with_tail=True) for child in vejledning_tekst
    )
    html = nh3.clean(raw, tags=GUIDANCE_TAGS, attributes={}, link_rel=None, strip_comments=True)
    html = _WHITESPACE.sub(" ", html)
    html = _AROUND_BLOCK_TAGS.sub(_first_group, html)
    # HTML does not nest a list inside a p (KLE does): the parser closes the p, leaving empties.
    return _EMPTY_PARAGRAPH.sub("", html).strip()


def _first_group(match: re.Match) -> str:
    return match.group(1)  # faster than the template r"\1" (no template expansion per match)


def deletion_period_parse(text: str) -> timedelta:
    """SletningJaevnfoerPersondataloven (xs:duration) as a timedelta; P1800D → 1800 days."""
    value = text.strip()
    if value.startswith("P") and re.search(r"[YM]", value.split("T", 1)[0]):
        raise ValueError(
            f"{value!r} uses years or months, which have no fixed length; "
            "KLE states deletion periods in days (e.g. P1825D for 5 years)"
        )
    match = _DURATION.fullmatch(value)
    if not match or not any(match.groupdict().values()) or value.endswith("T"):
        raise ValueError(f"{value!r} is not a duration in days such as P1800D")
    parts = {name: float(number) for name, number in match.groupdict().items() if number}
    return timedelta(**parts)


class _Builder:
    def __init__(self, document: KleDocument):
        self.document = document
        self.rest = document.format == Publication.Format.REST_FULL
        self.problems: list[Problem] = []
        self.seen: dict[str, int] = {}

    def problem(self, message: str, element: etree._Element | None, tag: str | None = None):
        line = element.sourceline if element is not None else None
        name = tag or (element.tag if element is not None else None)
        self.problems.append(Problem(message, element=name, line=line))

    # --- emneplan --------------------------------------------------------

    def subjects(self) -> RecordSet:
        records: list[ItemRecord] = []
        root = self.document.root
        for main_group in root.iterchildren("Hovedgruppe"):
            main = self.item(main_group, "Hovedgruppe", Subject.Level.MAIN_GROUP, None)
            records.append(main)
            for group in main_group.iterchildren("Gruppe"):
                group_record = self.item(group, "Gruppe", Subject.Level.GROUP, main.key)
                records.append(group_record)
                for topic in group.iterchildren("Emne"):
                    records.append(self.item(topic, "Emne", Subject.Level.TOPIC, group_record.key))
        if self.rest:
            carried = (*COMMON_FIELDS, "uuid")
        else:
            carried = (*COMMON_FIELDS, "retention_code", "deletion_period")
        return RecordSet(kind=self.document.kind, records=records, carried_fields=carried)

    # --- handlingsfacetter ------------------------------------------------

    def facets(self) -> RecordSet:
        records: list[ItemRecord] = []
        categories = 0
        for category in self.document.root.iterchildren("HandlingsfacetKategori"):
            categories += 1
            category_record = self.item(category, "HandlingsfacetKategori", FACET_CATEGORY, None)
            records.append(category_record)
            for facet in category.iterchildren("Handlingsfacet"):
                records.append(self.item(facet, "Handlingsfacet", FACET, category_record.key))
        record_set = RecordSet(
            kind=self.document.kind,
            records=records,
            carried_fields=(*COMMON_FIELDS, "retention_code"),
        )
        if categories < len(FACET_CATEGORY_CODES):
            record_set.is_excerpt = True
            record_set.warnings.append(
                f"the file holds {categories} of the {len(FACET_CATEGORY_CODES)} "
                "handlingsfacet categories (an excerpt); categories and facets it does "
                "not mention are left as they are"
            )
        return record_set

    # --- one item ---------------------------------------------------------

    def item(self, element, prefix: str, level: str, parent_key: str | None) -> ItemRecord:
        values: dict[str, Any] = {
            "title": "",
            "guidance_html": "",
            "created_on": None,
            "corrected_on": [],
            "expired_on": None,
            "moved_on": None,
            "successor_numbers": [],
            "filters": [],
            "legal_references": [],
            "retention_code": "",
            "deletion_period": None,
            "uuid": None,
        }
        key = ""
        key_element = None
        uuid_element = None
        keywords: list[tuple[str, str, str]] = []
        has_keywords = False
        for child in element.iterchildren(tag=etree.Element):
            tag = child.tag
            suffix = tag[len(prefix) :] if tag.startswith(prefix) else None
            if suffix == "Nr":
                key, key_element = child.text or "", child
            elif suffix == "Titel":
                # Surrounding whitespace is markup noise (323 titles in 2015-08-01 end
                # in a space); the text itself, " [udgået]" included, is kept as delivered.
                values["title"] = self.bounded((child.text or "").strip(), child, TITLE_MAX)
            elif suffix == "Vejledning":
                values["guidance_html"] = guidance_html_clean(child.find("VejledningTekst"))
            elif suffix == "RetskildeReference":
                values["legal_references"].extend(self.legal_references(child))
            elif suffix == "AdministrativInfo":
                self.administrative_info(child, values)
            elif suffix == "Filter":
                values["filters"].extend(
                    (title.text or "").strip() for title in child.iterchildren("FilterTitel")
                )
            elif suffix == "Stikord" or tag == "EmneOgHandlingsfacetStikord":
                has_keywords = has_keywords or suffix == "Stikord"
                keyword = self.keyword(child)
                if keyword:
                    keywords.append(keyword)
            elif tag == "UUID":
                uuid_element = child
            elif tag == "BevaringJaevnfoerArkivloven":
                values["retention_code"] = (child.text or "").strip()
            elif tag == "SletningJaevnfoerPersondataloven":
                try:
                    values["deletion_period"] = deletion_period_parse(child.text or "")
                except ValueError as exc:
                    self.problem(str(exc), child)
        self.check_key(key, key_element, level, parent_key)
        if self.rest and level in Subject.Level.values:
            values["uuid"] = self.rest_uuid(uuid_element, element, level, values["title"])
            if (
                level != Subject.Level.MAIN_GROUP
                and not has_keywords
                and not self.marked_not_active(values["title"])
            ):
                self.problem(
                    f"an active {level} must have at least one {prefix}Stikord "
                    "(assertion in KLE-REST-Emneplan-fuld.xsd)",
                    element,
                )
        return ItemRecord(
            key=key,
            level=level,
            parent_key=parent_key,
            line=element.sourceline,
            fields=values,
            keywords=_unique_keywords(keywords) if self.rest else None,
        )

    def check_key(self, key: str, element, level: str, parent_key: str | None) -> None:
        if element is None:  # the XSD requires it; defensive only
            self.problem("missing number", None)
            return
        try:
            if level in (FACET_CATEGORY, FACET):
                if level == FACET and facet_code_parse(code=key) != parent_key:
                    self.problem(
                        f"facet {key} does not belong to category {parent_key} "
                        f"(its code must start with {parent_key})",
                        element,
                    )
                if level == FACET_CATEGORY and key not in FACET_CATEGORY_CODES:
                    raise ValueError(f"{key!r} is not a handlingsfacet category")
            else:
                parsed = subject_number_parse(number=key)
                if parsed.level != level:
                    self.problem(
                        f"{key} is a {parsed.level} number where a {level} belongs", element
                    )
                elif parsed.parent != parent_key:
                    self.problem(
                        f"{key} does not belong under {parent_key} (its parent is {parsed.parent})",
                        element,
                    )
        except ValueError as exc:
            self.problem(str(exc), element)
        if key in self.seen:
            self.problem(f"{key} appears more than once (first at line {self.seen[key]})", element)
        else:
            self.seen[key] = element.sourceline

    def administrative_info(self, element, values: dict[str, Any]) -> None:
        for child in element.iterchildren(tag=etree.Element):
            if child.tag == "OprettetDato":
                values["created_on"] = self.date(child)
            elif child.tag == "RettetDato":
                corrected = self.date(child)
                if corrected:
                    values["corrected_on"].append(corrected.isoformat())
            elif child.tag == "Historisk":
                for history in child.iterchildren(tag=etree.Element):
                    if history.tag == "UdgaaetDato":
                        values["expired_on"] = self.date(history)
                    elif history.tag == "Flyttet":
                        self.moved(history, values)

    def moved(self, element, values: dict[str, Any]) -> None:
        for child in element.iterchildren(tag=etree.Element):
            if child.tag == "FlyttetDato":
                values["moved_on"] = self.date(child)
            elif child.tag == "AfloestAf":
                values["successor_numbers"].extend(
                    (number.text or "").strip() for number in child.iterchildren(tag=etree.Element)
                )

    def legal_references(self, element) -> list[dict[str, str]]:
        # RetskildeReferenceKomponent is a repeatable sequence (2.0): a new
        # RetskildeTitel starts a new reference.
        references: list[dict[str, str]] = []
        for child in element.iterchildren(tag=etree.Element):
            text = (child.text or "").strip()
            if child.tag == "RetskildeTitel":
                references.append({"title": text, "paragraph": "", "accession_number": ""})
            elif child.tag == "ParagrafEllerKapitel" and references:
                references[-1]["paragraph"] = text
            elif child.tag == "RetsinfoAccessionsNr" and references:
                references[-1]["accession_number"] = text
        return references

    def keyword(self, element) -> tuple[str, str, str] | None:
        order = self.bounded((element.findtext("Orden") or "").strip(), element, ORDER_MAX)
        text = self.bounded((element.findtext("Tekst") or "").strip(), element, KEYWORD_MAX)
        facet_code = (element.findtext("HandlingsfacetNr") or "").strip()
        return (order, text, facet_code) if text else None

    def rest_uuid(self, uuid_element, element, level: str, title: str) -> uuid.UUID | None:
        text = (uuid_element.text or "") if uuid_element is not None else ""
        match = _UUID.search(text)
        if match:
            return uuid.UUID(match.group(0))
        # The XSD asserts a UUID for every active gruppe and emne; expired ones may lack it.
        # (Its hovedgruppe assertion names "HovedGruppe", matches nothing, and so asserts nothing.)
        if level != Subject.Level.MAIN_GROUP and not self.marked_not_active(title):
            self.problem(
                f"{text.strip()!r} is not a UUID; an active {level} must carry one "
                "(assertion in KLE-REST-Emneplan-fuld.xsd)",
                uuid_element if uuid_element is not None else element,
                "UUID",
            )
        return None

    def bounded(self, text: str, element, limit: int) -> str:
        """The text, or a problem when it exceeds its column (xs:string has no limit)."""
        if len(text) > limit:
            self.problem(f"{len(text)} characters; at most {limit} are stored", element)
        return text

    @staticmethod
    def marked_not_active(title: str) -> bool:
        return any(marker in title for marker in _NOT_ACTIVE_MARKERS)

    def date(self, element):
        try:
            return xs_date_parse(element.text)
        except ValueError as exc:
            self.problem(str(exc), element)
            return None


def _unique_keywords(keywords: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """First occurrence of each (text, facet) pair: Keyword is unique on them."""
    seen: set[tuple[str, str]] = set()
    unique = []
    for order, text, facet_code in keywords:
        if (text, facet_code) not in seen:
            seen.add((text, facet_code))
            unique.append((order, text, facet_code))
    return unique
