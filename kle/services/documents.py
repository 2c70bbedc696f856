"""Reading, safely parsing, recognising and validating KLE files (no database access).

A KLE source is a file path or an http(s) URL. The file is parsed with
entities, DTDs and network access off; a DOCTYPE is rejected outright (KLE files
have none, and it is how billion-laughs and XXE attacks arrive). The kind is
recognised by the root element, the format by the content, and the file is
validated against the official XSDs shipped in ``kle/xsd/``.
"""

import functools
import hashlib
import re
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from lxml import etree

from kle.models import Publication
from kle.services.errors import KleImportError, KleSourceUnavailable, Problem

# The real 2015 emneplan is 3.4 MB; anything far beyond that is not KLE.
MAX_SOURCE_BYTES = 64 * 1024 * 1024
XSD_DIR = Path(__file__).resolve().parent.parent / "xsd"
XS = "{http://www.w3.org/2001/XMLSchema}"

SUBJECT_PLAN_ROOT = "KLE-Emneplan"
ACTION_FACETS_ROOT = "KLE-Handlingsfacetter"
# Elements only the KLE-online REST "fuld" format has (KLE-REST-Emneplan-fuld.xsd).
_REST_ONLY_ELEMENTS = (
    "UUID",
    "HovedgruppeStikord",
    "GruppeStikord",
    "EmneStikord",
    "EmneOgHandlingsfacetStikord",
)
_XSD_FILES = {
    (Publication.Kind.SUBJECT_PLAN, Publication.Format.VERSION_2_0): "KLE-Emneplan-version-2-0.xsd",
    (Publication.Kind.SUBJECT_PLAN, Publication.Format.REST_FULL): "KLE-REST-Emneplan-fuld.xsd",
    (
        Publication.Kind.ACTION_FACETS,
        Publication.Format.VERSION_2_0,
    ): "KLE-Handlingsfacetter-version-2-0.xsd",
}
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_LIBXML_ELEMENT = re.compile(r"^Element '([^']+)'(?:, attribute '[^']+')?: (.*)$", re.DOTALL)
_LIBXML_POSITION = re.compile(r",? line \d+, column \d+$")
_XS_DATE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:Z|[+-][0-9]{2}:[0-9]{2})?")
_LIBXML_EXPECTED = re.compile(
    r"(This element is not expected|Missing child element\(s\))\. "
    r"Expected is (?:one of )?\( (.+) \)"
)
MAX_SCHEMA_PROBLEMS = 50


@dataclass
class KleDocument:
    """A read, parsed and XSD-valid KLE file, not yet turned into records."""

    source: str
    kind: str  # Publication.Kind
    format: str  # Publication.Format
    published_on: date
    sha256: str
    root: etree._Element
    warnings: list[str] = field(default_factory=list)


def safe_parser() -> etree.XMLParser:
    """An lxml parser that expands no entities and loads nothing from a DTD or the network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
    )


def kle_source_read(*, source: str, timeout: float) -> bytes:
    """Return the bytes of a file path or an http(s) URL; raise KleSourceUnavailable."""
    if _URL.match(source):
        return _url_read(url=source, timeout=timeout)
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > MAX_SOURCE_BYTES:
            raise KleSourceUnavailable(
                source, [Problem(f"the file is {size} bytes; at most {MAX_SOURCE_BYTES} accepted")]
            )
        return path.read_bytes()
    except OSError as exc:
        raise KleSourceUnavailable(
            source, [Problem(f"cannot read the file: {exc.strerror or exc}")]
        ) from exc


@dataclass
class UrlFetch:
    """The answer to a (conditional) GET: ``data`` is None when the server said 304."""

    status: int
    data: bytes | None
    etag: str = ""
    last_modified: str = ""


def _url_read(*, url: str, timeout: float) -> bytes:
    return kle_url_fetch(url=url, timeout=timeout).data or b""


def _opener() -> urllib.request.OpenerDirector:
    # Only HTTP(S) handlers: a redirect to file:// or ftp:// must not be followed.
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def kle_url_fetch(*, url: str, timeout: float, etag: str = "", last_modified: str = "") -> UrlFetch:
    """GET an http(s) URL, conditionally when validators are given; raise KleSourceUnavailable.

    ``etag`` is sent as ``If-None-Match`` and ``last_modified`` as ``If-Modified-Since``
    (RFC 9110 §13.1); a 304 answer comes back with ``data=None``.
    """
    scheme = url.split("://", 1)[0].lower()
    if scheme not in ("http", "https"):
        raise KleSourceUnavailable(url, [Problem(f"unsupported URL scheme {scheme!r}")])
    headers = {"Accept": "application/xml, text/xml;q=0.9", "User-Agent": "overblik-kle/1"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - scheme checked above
    try:
        with _opener().open(request, timeout=timeout) as response:
            data = response.read(MAX_SOURCE_BYTES + 1)
            status = response.status
            answer_headers = response.headers
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return UrlFetch(
                status=304,
                data=None,
                etag=exc.headers.get("ETag", "") or etag,
                last_modified=exc.headers.get("Last-Modified", "") or last_modified,
            )
        raise KleSourceUnavailable(url, [Problem(f"HTTP {exc.code} {exc.reason}")]) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise KleSourceUnavailable(url, [Problem(f"cannot fetch: {reason}")]) from exc
    if len(data) > MAX_SOURCE_BYTES:
        raise KleSourceUnavailable(url, [Problem(f"the response exceeds {MAX_SOURCE_BYTES} bytes")])
    return UrlFetch(
        status=status,
        data=data,
        etag=answer_headers.get("ETag", ""),
        last_modified=answer_headers.get("Last-Modified", ""),
    )


def kle_document_parse(*, data: bytes, source: str) -> KleDocument:
    """Parse, recognise and XSD-validate a KLE file; raise KleImportError naming line and element."""
    # Reject a DOCTYPE before the parser sees it: no DTD, no entity declarations.
    match = _DOCTYPE.search(data)
    if match:
        line = data.count(b"\n", 0, match.start()) + 1
        raise KleImportError(source, [_doctype_problem(line)])
    try:
        tree = etree.fromstring(data, parser=safe_parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        message = _LIBXML_POSITION.sub("", exc.msg or str(exc))
        raise KleImportError(
            source, [Problem(f"not well-formed XML: {message}", line=exc.lineno)]
        ) from exc
    # A DOCTYPE in an encoding the byte scan cannot see (UTF-16) is caught here.
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise KleImportError(source, [_doctype_problem(1)])
    root = tree.getroot()
    kind = _kind(root, source)
    fmt = _format(root, kind)
    schema = _schema(kind, fmt)
    if not schema.validate(tree):
        raise KleImportError(source, _schema_problems(schema.error_log, kind, fmt))
    published = root.find("UdgivelsesDato")
    try:
        published_on = xs_date_parse(published.text)
    except ValueError as exc:
        raise KleImportError(
            source, [Problem(str(exc), element="UdgivelsesDato", line=published.sourceline)]
        ) from exc
    return KleDocument(
        source=source,
        kind=kind,
        format=fmt,
        published_on=published_on,
        sha256=hashlib.sha256(data).hexdigest(),
        root=root,
    )


def xs_date_parse(text: str | None) -> date:
    """An xs:date as a date; a time zone suffix (Z, +01:00), allowed by xs:date, is ignored."""
    return _xs_date_parse((text or "").strip())


@functools.lru_cache(maxsize=4096)  # a KLE file repeats a few hundred distinct dates
def _xs_date_parse(value: str) -> date:
    match = _XS_DATE.fullmatch(value)
    if not match:
        raise ValueError(f"{value!r} is not a date (yyyy-mm-dd)")
    try:
        return date.fromisoformat(match.group(1))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid date: {exc}") from exc


def kle_document_load(*, source: str, timeout: float) -> KleDocument:
    """Read a source (file or URL) and parse it (see kle_document_parse)."""
    return kle_document_parse(data=kle_source_read(source=source, timeout=timeout), source=source)


def _doctype_problem(line: int) -> Problem:
    return Problem(
        "a DOCTYPE is not allowed in a KLE file (DTDs and entities are refused: "
        "billion-laughs and XXE protection)",
        element="!DOCTYPE",
        line=line,
    )


def _kind(root: etree._Element, source: str) -> str:
    if root.tag == SUBJECT_PLAN_ROOT:
        return Publication.Kind.SUBJECT_PLAN
    if root.tag == ACTION_FACETS_ROOT:
        return Publication.Kind.ACTION_FACETS
    name = etree.QName(root).localname if isinstance(root.tag, str) else str(root.tag)
    namespace = etree.QName(root).namespace if isinstance(root.tag, str) else None
    detail = f" in namespace {namespace}" if namespace else ""
    raise KleImportError(
        source,
        [
            Problem(
                f"wrong root element{detail}: expected <{SUBJECT_PLAN_ROOT}> (emneplan) "
                f"or <{ACTION_FACETS_ROOT}> (handlingsfacetter)",
                element=name,
                line=root.sourceline,
            )
        ],
    )


def _format(root: etree._Element, kind: str) -> str:
    """The REST "fuld" format has the same root as 2.0 but adds UUID and Stikord."""
    if (
        kind == Publication.Kind.SUBJECT_PLAN
        and next(root.iter(*_REST_ONLY_ELEMENTS), None) is not None
    ):
        return Publication.Format.REST_FULL
    return Publication.Format.VERSION_2_0


@functools.cache
def _schema(kind: str, fmt: str) -> etree.XMLSchema:
    xsd = etree.parse(str(XSD_DIR / _XSD_FILES[(kind, fmt)]), parser=safe_parser())
    if fmt == Publication.Format.REST_FULL:
        # libxml2 implements XSD 1.0 only; the REST schema's xs:assert elements are
        # XSD 1.1. They are removed here and checked in kle.services.records instead.
        for assertion in list(xsd.iter(f"{XS}assert")):
            assertion.getparent().remove(assertion)
    if kind == Publication.Kind.ACTION_FACETS:
        # The XSD demands exactly 7 HandlingsfacetKategori. Partial files (such as
        # the OpenESDH test excerpt with category A only) are accepted and reported
        # as excerpts: an import never deletes, so a partial file changes only what it holds.
        for element in xsd.iter(f"{XS}element"):
            if element.get("name") == "HandlingsfacetKategori":
                element.set("minOccurs", "1")
    return etree.XMLSchema(xsd)


def _clearer(message: str) -> str:
    """libxml2's wording of a missing or misplaced element, naming the elements expected."""
    match = _LIBXML_EXPECTED.match(message)
    if not match:
        return message
    found, expected = match.groups()
    names = ", ".join(f"<{name.strip()}>" for name in expected.split(","))
    if found == "Missing child element(s)":
        return f"a required child element is missing: expected {names}"
    return f"element not expected here: expected {names} (missing, misspelt or out of order)"


def _schema_problems(error_log: Iterable, kind: str, fmt: str) -> list[Problem]:
    schema_name = _XSD_FILES[(kind, fmt)]
    problems = []
    for entry in list(error_log)[:MAX_SCHEMA_PROBLEMS]:
        message = entry.message
        element = None
        match = _LIBXML_ELEMENT.match(message)
        if match:
            element, message = match.groups()
        message = _clearer(message.replace("[facet 'pattern'] ", "").strip().rstrip("."))
        problems.append(
            Problem(f"{message} (invalid against {schema_name})", element=element, line=entry.line)
        )
    return problems or [Problem(f"invalid against {schema_name}")]
