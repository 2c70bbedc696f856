"""Parse an XML request body safely: no entities, no DTD, no network, bounded.

- The size is checked before parsing (``max_bytes``; the API's body limit, 8 MiB,
  is checked earlier still by ``indexes.middleware``).
- ``resolve_entities=False``, ``load_dtd=False``, ``no_network=True``: an external
  entity (XXE) is never read, a file or URL never opened; ``huge_tree=False`` keeps
  libxml2's own limits on text and depth.
- A document with a ``<!DOCTYPE`` is refused outright (``dtd_forbidden``): SF1470
  and YI use none, and an internal subset is where entity bombs ("billion laughs")
  live. Without resolving, an entity would otherwise stay an unexpanded node.
- Elements nested deeper than ``MAX_DEPTH`` are refused while parsing (``too_deep``):
  the deepest SF1470 path is about 12 levels.
- Comments and processing instructions are dropped.
"""

import io
from dataclasses import dataclass

from lxml import etree

MAX_DEPTH = 40
DEFAULT_MAX_BYTES = 8 * 1024 * 1024


@dataclass
class XmlRefused(Exception):
    """The body is not XML this service parses: ``code``, a message and the line, if known."""

    code: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def xml_parse(raw: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """The root element of ``raw``, or ``XmlRefused`` naming why not."""
    if len(raw) > max_bytes:
        raise XmlRefused("too_large", f"The XML document is over {max_bytes} bytes.")
    if not raw.strip():
        raise XmlRefused("empty", "The body holds no XML document.")
    if any(marker in raw for marker in _DOCTYPE_MARKERS):
        raise _dtd_refused()
    events = etree.iterparse(
        io.BytesIO(raw),
        events=("start", "end"),
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        dtd_validation=False,
    )
    depth = 0
    root = None
    try:
        for event, element in events:
            if event == "start":
                if root is None:
                    root = element
                    _doctype_refuse(element)
                depth += 1
                if depth > MAX_DEPTH:
                    raise XmlRefused(
                        "too_deep",
                        f"Elements are nested more than {MAX_DEPTH} levels deep.",
                        element.sourceline,
                    )
            else:
                depth -= 1
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if getattr(exc, "lineno", None) else None
        message = str(exc.msg) if getattr(exc, "msg", None) else "Not well-formed XML."
        raise XmlRefused("not_well_formed", message, line) from None
    if root is None:  # pragma: no cover - iterparse raises on an empty document
        raise XmlRefused("empty", "The body holds no XML document.")
    for node in root.iter():
        if isinstance(node, etree._Entity):
            raise XmlRefused(
                "entity_forbidden", "Entity references are not allowed.", node.sourceline
            )
    return root


# "<!DOCTYPE" in the encodings a document may declare (checked before parsing, so an
# entity bomb in the internal subset is never even read); the parsed tree is checked too.
_DOCTYPE_MARKERS = tuple(
    "<!DOCTYPE".encode(encoding) for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)


def _dtd_refused() -> XmlRefused:
    return XmlRefused(
        "dtd_forbidden", "A DOCTYPE (DTD) is not allowed: SF1470 and YI documents have none.", 1
    )


def _doctype_refuse(root: etree._Element) -> None:
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _dtd_refused()
