"""The one detector of CPR-shaped numbers in free text (DOMAIN.md §6).

A source system may put a CPR number where text belongs: a title "Afgørelse om
tilskud vedr. barn 010170-1234", an external id, an error message. Everything
that must never show or log one uses this module: the log filter
(``config.logging``), the citizen door (``borgerblikket.selectors`` masks every
text it returns), the admin's displays and the data-quality check that flags
such records (in SQL, with ``CPR_SHAPE_SQL``). One definition, so the places
cannot drift apart.

A CPR shape is ``DDMMYY-SSSS`` or ``DDMMYYSSSS`` (the separator a dash, a space
or nothing), not part of a longer number, whose first six digits are a date
that exists (29 February only in years divisible by four; the century digit
makes every year possible, so no year is excluded). Modulus 11 is not checked:
numbers without it have been issued since 2007.

The patterns use only what PostgreSQL's regular expressions and Python's ``re``
(SQLite's REGEXP) read alike: no ``\\d``, no POSIX classes, no look-around in SQL.
"""

import re

# DDMMYY of a date that exists in some century.
_DATE = (
    "(?:"
    "(?:0[1-9]|1[0-9]|2[0-8])(?:0[1-9]|1[0-2])[0-9]{2}"
    "|(?:29|30)(?:0[13-9]|1[0-2])[0-9]{2}"
    "|31(?:0[13578]|1[02])[0-9]{2}"
    "|2902(?:[02468][048]|[13579][26])"
    ")"
)
# A dash (also the typographic ones a word processor puts in), a space (also the
# no-break ones), or nothing.
_SEPARATOR = "[-\u2010\u2011\u2013 \u00a0\u202f]?"
_SERIAL = "[0-9]{4}"

# Python: group 1 is DDMMYY, group 2 the serial; the digits around are not consumed,
# so two numbers one character apart are both found.
CPR_SHAPE = re.compile(f"(?<![0-9])({_DATE}){_SEPARATOR}({_SERIAL})(?![0-9])")
# SQL (``field__regex``): the same number, bounded by the text's ends or non-digits.
CPR_SHAPE_SQL = f"(^|[^0-9]){_DATE}{_SEPARATOR}{_SERIAL}([^0-9]|$)"

# JSON Schema (ECMA 262; also Python's re) for values that are ASCII only, such as an
# external id (``"not": {"pattern": ...}`` in docs/openapi.yaml): the same numbers, whose
# separators can then only be a dash or a space. ASCII, so the schema file stays plain.
CPR_SHAPE_ASCII_SCHEMA = f"(^|[^0-9]){_DATE}[- ]?{_SERIAL}([^0-9]|$)"

# A UUID in its canonical form (RFC 9562 §4: 8-4-4-4-12 hexadecimal digits), the form of
# SF1470's UUIDIdentifikator. About 5 in 10,000 random UUIDs hold ten digits in a row that
# look like a CPR number ("…-0101-…" seldom, "ab010170-1234-…" more often); a whole id in
# this form is not taken for one (``uuid_canonical``). Free text is never exempt.
_HEX = "[0-9a-fA-F]"
UUID_CANONICAL_PATTERN = f"^{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}$"
UUID_CANONICAL = re.compile(UUID_CANONICAL_PATTERN)

# The most of a CPR number that may be shown (the admin's ``DDMMYY-****``).
MASK = "****"


def cpr_shape_in(text: str | None) -> bool:
    """Whether ``text`` contains a CPR-shaped number."""
    return bool(text) and CPR_SHAPE.search(text) is not None


def uuid_canonical(text: str | None) -> bool:
    """Whether the whole of ``text`` is a UUID in canonical form (8-4-4-4-12 hex)."""
    return isinstance(text, str) and UUID_CANONICAL.fullmatch(text) is not None


def cpr_shape_in_id(text: str | None) -> bool:
    """Whether the id ``text`` holds a CPR-shaped number: as ``cpr_shape_in``, except that
    an id that is a canonical UUID never does (its digits are random, not a person's)."""
    return cpr_shape_in(text) and not uuid_canonical(text)


def cpr_shapes_mask(text: str) -> str:
    """``text`` with every CPR-shaped number shown as ``DDMMYY-****``.

    ``None`` and non-text values are returned unchanged, so any field can be passed.
    """
    if not isinstance(text, str) or not text:
        return text
    return CPR_SHAPE.sub(rf"\1-{MASK}", text)


def cpr_shapes_redact(text: str, replacement: str = "[CPR]") -> str:
    """``text`` with every CPR-shaped number replaced whole (log lines, error messages)."""
    if not isinstance(text, str) or not text:
        return text
    return CPR_SHAPE.sub(replacement, text)
