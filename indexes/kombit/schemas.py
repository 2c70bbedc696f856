"""KOMBIT's XSDs, loaded once, and validation that names the XPath and line of each problem.

The XSDs in ``xsd/`` are KOMBIT's files as published (``xsd/NOTICE.md``), except the
operations file ``xsd/sdi6/OverblikSagDokumentIndeksOperationer.xsd``: Overblik's subset
of KOMBIT's operations schema (the files it imports are not in the set we have). The
schemas are read from the package directory with the same safe parser settings as
requests (no network, no entities): an ``import`` can only name a file beside it.
"""

import functools
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

XSD_DIR = Path(__file__).resolve().parent / "xsd"
SCHEMAS = {
    "sf1470": XSD_DIR / "sdi6" / "OverblikSagDokumentIndeksOperationer.xsd",
    "yi": XSD_DIR / "yi6" / "OverblikYdelseIndeksOperationer.xsd",
}
# At most this many problems are reported for one document (libxml2 may find thousands).
MAX_PROBLEMS = 50


@dataclass(frozen=True)
class XmlProblem:
    """One problem with an XML document: where (XPath, line), a code and a message."""

    xpath: str
    line: int | None
    code: str
    message: str

    def as_error(self) -> dict:
        """A problem document's ``errors`` entry (the XPath as its ``pointer``)."""
        return {
            "pointer": self.xpath,
            "line": self.line,
            "code": self.code,
            "message": self.message,
        }


@functools.cache
def schema_get(name: str) -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(SCHEMAS[name]), parser))


def xml_validate(*, root: etree._Element, schema: str) -> list[XmlProblem]:
    """Every problem the XSD ``schema`` finds in ``root`` (at most ``MAX_PROBLEMS``)."""
    xsd = schema_get(schema)
    if xsd.validate(root):
        return []
    return [
        XmlProblem(
            xpath=entry.path or "",
            line=entry.line or None,
            code="xsd_invalid",
            message=entry.message,
        )
        for entry in list(xsd.error_log)[:MAX_PROBLEMS]
    ]


def element_xpath(element: etree._Element) -> str:
    """An XPath naming ``element`` with the document's own prefixes, as libxml2 writes it.

    ``/sdi:ImporterSagDokumentIndeksInput/sdi:SagIndeks[2]/sag:Registrering``: a position
    only where siblings share the name.
    """
    parts = []
    node = element
    while node is not None:
        qname = etree.QName(node)
        name = f"{node.prefix}:{qname.localname}" if node.prefix else qname.localname
        parent = node.getparent()
        if parent is not None:
            same = [sibling for sibling in parent if sibling.tag == node.tag]
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        parts.append(name)
        node = parent
    return "/" + "/".join(reversed(parts))
