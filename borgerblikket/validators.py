"""Parsing and validation of the configuration sheet's cells.

Each function takes the raw cell (text, or a date from an XLSX cell) and returns
the normalised value or raises ``ValueError`` with a Danish message naming the
problem (the caller adds the column and line). Nothing here echoes a CPR.
"""

import datetime as dt
import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

KLE_TOPIC_RE = re.compile(r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}$")
PHONE_RE = re.compile(r"^[0-9]{8}$")
DANISH_DATE_RE = re.compile(r"^([0-9]{1,2})[-./]([0-9]{1,2})[-./]([0-9]{4})$")
ISO_DATE_RE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")

_url_validator = URLValidator(schemes=["http", "https"])


def kle_topic_number_parse(value: object) -> str:
    """A KLE emne number ``NN.NN.NN`` (leading zeros kept, as KLE writes them)."""
    text = str(value or "").strip()
    if not text:
        raise ValueError(_("KLE-nummer mangler"))
    if not KLE_TOPIC_RE.match(text):
        raise ValueError(
            _("'%(text)s' er ikke et KLE-emnenummer på formen NN.NN.NN") % {"text": text}
        )
    return text


def phone_parse(value: object) -> str:
    """A Danish phone number: 8 digits, spaces allowed ("66 13 13 72" → "66131372")."""
    text = str(value or "").strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        # XLSX stores an all-digit cell as a number.
        text = str(int(value))
    digits = re.sub(r"\s+", "", text)
    if not digits:
        return ""
    if not PHONE_RE.match(digits):
        raise ValueError(_("'%(text)s' er ikke et telefonnummer med 8 cifre") % {"text": text})
    return digits


def date_parse(value: object) -> dt.date:
    """A date written DD-MM-YYYY (the sheet's own form) or YYYY-MM-DD, or an XLSX date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    if not text:
        raise ValueError(_("datoen mangler"))
    if match := ISO_DATE_RE.match(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := DANISH_DATE_RE.match(text):
        day, month, year = (int(g) for g in match.groups())
    else:
        raise ValueError(
            _("'%(text)s' er ikke en dato på formen DD-MM-ÅÅÅÅ eller ÅÅÅÅ-MM-DD") % {"text": text}
        )
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(_("'%(text)s' er ikke en gyldig dato") % {"text": text}) from None


def date_format(value: dt.date | None) -> str:
    """The sheet's own date form, DD-MM-YYYY."""
    return value.strftime("%d-%m-%Y") if value else ""


def link_parse(value: object) -> str:
    """An http(s) URL, or empty. Raises for anything else."""
    text = str(value or "").strip()
    if not text:
        return ""
    try:
        _url_validator(text)
    except ValidationError:
        raise ValueError(_("'%(text)s' er ikke et gyldigt http(s)-link") % {"text": text}) from None
    if len(text) > 500:
        raise ValueError(_("linket er længere end 500 tegn"))
    return text


def link_warnings(value: str) -> list[str]:
    """Problems in a link that is a valid URL but most likely broken (without the link).

    Odense's sheet has Digital Post links like ``https://post.borger.dk/?logon.aspx?portalid=…``:
    the page name has slipped into the query (a second "?"), so the link lands on the
    front page instead of the mailbox.
    """
    if not value:
        return []
    warnings = []
    query = urlsplit(value).query
    if "?" in query:
        # The problem only, not the link: the same problem on many lines is said once
        # (the import preview groups warnings by their text).
        warnings.append(
            _(
                "linket indeholder '?' flere gange; sidenavnet står formentlig i "
                "forespørgslen (fx '/?logon.aspx?' for '/logon.aspx?')"
            )
        )
    return warnings


# A processing time as a municipality publishes it: "8 uger", "30 dage" (also English).
PROCESSING_TIME_RE = re.compile(r"^([0-9]{1,4})\s*([^\s0-9]+)$")
PROCESSING_TIME_UNITS = {
    "dag": "days",
    "dage": "days",
    "day": "days",
    "days": "days",
    "uge": "weeks",
    "uger": "weeks",
    "week": "weeks",
    "weeks": "weeks",
}
PROCESSING_TIME_WORDS = {"days": ("dag", "dage"), "weeks": ("uge", "uger")}


def processing_time_parse(value: object) -> tuple[int | None, str]:
    """A sagsbehandlingsfrist cell: (number, ``"days"``/``"weeks"``), or (None, "") when empty."""
    from borgerblikket.models import PROCESSING_TIME_MAX

    if value is None or (isinstance(value, str) and not value.strip()):
        return None, ""
    text = " ".join(str(value).split())
    match = PROCESSING_TIME_RE.match(text)
    unit = PROCESSING_TIME_UNITS.get(match.group(2).casefold()) if match else None
    if unit is None:
        raise ValueError(
            _("'%(text)s' er ikke en frist i dage eller uger på formen '8 uger' eller '30 dage'")
            % {"text": text}
        )
    number = int(match.group(1))
    most = PROCESSING_TIME_MAX[unit]
    if number < 1:
        message = (
            _("'%(text)s': fristen skal være mindst 1 dag")
            if unit == "days"
            else _("'%(text)s': fristen skal være mindst 1 uge")
        )
        raise ValueError(message % {"text": text})
    if number > most:
        message = (
            _("'%(text)s': fristen er højst %(most)s dage")
            if unit == "days"
            else _("'%(text)s': fristen er højst %(most)s uger")
        )
        raise ValueError(message % {"text": text, "most": most})
    return number, unit


def processing_time_format(number: int | None, unit: str) -> str:
    """The sheet's own form of a processing time: "8 uger", "1 dag" ("" when none)."""
    if number is None or unit not in PROCESSING_TIME_WORDS:
        return ""
    one, many = PROCESSING_TIME_WORDS[unit]
    return f"{number} {one if number == 1 else many}"
