"""KLE numbers and facet codes: parsing and validation (pure functions, no database).

The patterns are the global elements of all three KLE XSDs: HovedgruppeNr
``[0-9][0-9]``, GruppeNr ``[0-9][0-9][.][0-9][0-9]``, EmneNr
``[0-9][0-9][.][0-9][0-9][.][0-9][0-9]`` and HandlingsfacetNr
``A[0-9][0-9]|P[0-9][0-9]|…|I[0-9][0-9]``. Numbers are strings: leading zeros matter.
"""

import re
from dataclasses import dataclass

# [0-9], not \d: \d also matches non-ASCII digits such as "٣", which the XSD rejects.
_SUBJECT_NUMBER = re.compile(r"[0-9]{2}(?:\.[0-9]{2}){0,2}")
_FACET_CODE = re.compile(r"[APSØGKI][0-9]{2}")
FACET_CATEGORY_CODES = ("A", "P", "S", "Ø", "G", "K", "I")
_LEVELS = {1: "hovedgruppe", 2: "gruppe", 3: "emne"}


@dataclass(frozen=True)
class SubjectNumber:
    number: str
    level: str  # a Subject.Level value
    parent: str | None  # "02.00" for "02.00.10"; None for a hovedgruppe


def subject_number_parse(*, number: str) -> SubjectNumber:
    """Parse ``02``, ``02.00`` or ``02.00.10``; raise ValueError naming the problem."""
    if not isinstance(number, str) or not _SUBJECT_NUMBER.fullmatch(number):
        raise ValueError(
            f"{number!r} is not a KLE number: expected two digits per part, "
            "e.g. 02 (hovedgruppe), 02.00 (gruppe) or 02.00.10 (emne)"
        )
    parts = number.split(".")
    parent = ".".join(parts[:-1]) or None
    return SubjectNumber(number=number, level=_LEVELS[len(parts)], parent=parent)


def facet_code_parse(*, code: str) -> str:
    """Return the category letter of a facet code such as ``G01``; raise ValueError."""
    if not isinstance(code, str) or not _FACET_CODE.fullmatch(code):
        raise ValueError(
            f"{code!r} is not a handlingsfacet code: expected one of "
            f"{', '.join(FACET_CATEGORY_CODES)} followed by two digits, e.g. G01"
        )
    return code[0]
