"""The wire format of index records: what source systems deliver (JSON).

These DRF serializers are the contract. drf-spectacular reads them for the
OpenAPI schema, and ``indexes.services.validation`` compiles them once into a
fast validator used by every ingestion path (a DRF ``is_valid()`` per record
costs ~0.3-0.7 ms, too much for the bulk path). Each leaf field below does its
own check in ``check()``; ``to_internal_value`` calls the same ``check()``, so
DRF and the compiled validator accept and reject exactly the same values.

Field lengths and value lists follow KOMBIT SF1470 v6 (case and document index,
``xsd_sdi_6.0``) and YI v6 (benefit index, ``xsd_yi_6.0``); each field names the
element it carries. Rules that need the database or several fields (KLE,
municipality, periods, progress order) live in ``indexes.services.validation``.
"""

import datetime
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from stdnum.dk import cpr as stdnum_cpr
from stdnum.dk import cvr as stdnum_cvr
from stdnum.exceptions import ValidationError as StdnumError

from config.cpr_shape import CPR_SHAPE_ASCII_SCHEMA, UUID_CANONICAL_PATTERN, cpr_shape_in_id
from indexes.models import (
    BenefitKind,
    BenefitStatus,
    DocumentRole,
    DocumentStatus,
    DocumentType,
    PaymentTiming,
    ProgressStatus,
    Sensitivity,
)

# Bounds on list lengths keep one record from tying up a worker; the four
# Fremdrift statuses each occur at most once (SF1470 §Tilstand).
MAX_PROGRESS = 4
MAX_LIST = 1000
MAX_AMOUNT = Decimal("999999999999.99")  # MONEY: max_digits=14, decimal_places=2
# YI GenerelleDefinitioner BeloebType: -?[0-9]+(\.[0-9]+)? (the sign is refused below).
AMOUNT_FORMAT = re.compile(r"^\s*-?[0-9]+(\.[0-9]+)?\s*$")
# What the schema promises for an amount string (the code also takes a JSON number).
AMOUNT_PATTERN = r"^[0-9]{1,12}(?:\.[0-9]{1,2})?$"
CPR_FORMAT = re.compile(r"^[0-9]{6}-?[0-9]{4}$")
KLE_NUMBER_FORMAT = re.compile(r"^[0-9]{2}(\.[0-9]{2}){0,2}$")
FACET_FORMAT = re.compile(r"^[APSØGKI][0-9]{2}$")
MUNICIPALITY_FORMAT = re.compile(r"^[0-9]{3}$")
# PostgreSQL text cannot hold NUL; other C0 controls have no place in index metadata.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]")
# The formats above are checked with ``fullmatch``: Python's "$" also matches before a
# final "\n", JSON Schema's does not (the schema's patterns end with "(?!\n)$",
# ``indexes.api.schema.END_OF_VALUE``), and the code must take the same strings.


class FieldProblem(Exception):
    """A leaf value is wrong: ``code`` and an English message (never the value itself)."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(message)


class WireField:
    """Mixin: ``check(value)`` validates and converts one JSON value.

    ``null_value`` is what ``null`` becomes where the field allows it.
    """

    null_value: Any = None

    def check(self, value: Any) -> Any:  # pragma: no cover - every field overrides it
        raise NotImplementedError

    def to_internal_value(self, data: Any) -> Any:
        try:
            return self.check(data)
        except FieldProblem as problem:
            raise serializers.ValidationError(problem.message, code=problem.code) from None


def _require_string(value: Any) -> str:
    if not isinstance(value, str):
        raise FieldProblem("invalid_type", "Must be a string.")
    return value


class TextField(WireField, serializers.CharField):
    """Free text; ``single_line`` enforces SF1470's "angives som en enkelt linje"."""

    null_value = ""

    def __init__(self, *, single_line: bool = True, **kwargs):
        self.single_line = single_line
        kwargs.setdefault("trim_whitespace", single_line)
        if not kwargs.get("required", True):
            kwargs.setdefault("allow_blank", True)
            kwargs.setdefault("default", "")
        super().__init__(**kwargs)

    def check(self, value: Any) -> str:
        text = _require_string(value)
        if self.trim_whitespace:
            text = text.strip()
        if not text and not self.allow_blank:
            raise FieldProblem("blank", "May not be blank.")
        # str.isprintable() is False for every control character and line break, so
        # the usual one-line text skips both regular expressions.
        if not text.isprintable():
            if CONTROL_CHARACTERS.search(text):
                raise FieldProblem("invalid_character", "Contains a control character.")
            if self.single_line and LINE_BREAKS.search(text):
                raise FieldProblem("not_single_line", "Must be a single line (no line breaks).")
        if self.max_length is not None and len(text) > self.max_length:
            raise FieldProblem(
                "too_long", f"At most {self.max_length} characters (got {len(text)})."
            )
        return text

    def schema(self) -> dict:
        """The schema's pattern of what ``check`` accepts (see ``indexes.api.schema``)."""
        refused = _ONE_LINE_REFUSED if self.single_line else _CONTROLS
        if self.allow_blank:
            return {"pattern": f"^[^{refused}]*$"}
        # Not blank: one character that is not trimmed.
        return {"pattern": f"^[^{refused}]*[^{refused}{_WHITESPACE}][^{refused}]*$"}

    def run_validation(self, data=serializers.empty):
        # A delivered ``null`` means "no text": the same as an empty string.
        if data is None and self.allow_null:
            return self.null_value
        if data == "" and self.allow_blank:
            return ""
        return super().run_validation(data)


# Schema patterns of free text (JSON Schema, ECMA 262 and Python alike): what
# ``TextField.check`` refuses. ``_TEXT_REFUSED`` are the control characters (and, on one
# line, the line breaks); ``_WHITESPACE`` what ``str.strip()`` removes besides them.
_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
_ONE_LINE_REFUSED = r"\x00-\x08\x0a-\x1f\x7f\u2028\u2029"
_WHITESPACE = r"\x09 \x85\xa0\u1680\u2000-\u200a\u202f\u205f\u3000"

# External ids stand in URL paths and logs as they are: 1-100 (a benefit's 1-36)
# characters that a URL path holds without percent-encoding (RFC 3986 ``pchar``),
# path segments separated by "/", none empty, "." or ".." (URL clients remove those).
# Printable ASCII only, so two spellings of one visible id cannot both exist.
_ID_CHAR = "A-Za-z0-9._~!$&'()*+,;=:@-"
_ID_CHAR_NOT_DOT = "A-Za-z0-9_~!$&'()*+,;=:@-"
_ID_SEGMENT = rf"(?:\.*[{_ID_CHAR_NOT_DOT}][{_ID_CHAR}]*|\.{{3,}})"
EXTERNAL_ID_PATTERN = rf"^{_ID_SEGMENT}(?:/{_ID_SEGMENT})*$"
EXTERNAL_ID_FORMAT = re.compile(EXTERNAL_ID_PATTERN)
EXTERNAL_ID_RULE = (
    "Must be printable ASCII: letters, digits and - . _ ~ ! $ & ' ( ) * + , ; = : @, "
    'in parts separated by "/", none empty, "." or ".."'
)
# Case numbers: printable ASCII (spaces inside; around them they are trimmed).
CASE_NUMBER_PATTERN = r"^[ -~]*[!-~][ -~]*$"
# Unicode categories of characters that show nothing (or nothing where they are):
# control, format (zero-width space, soft hyphen, direction marks), line/paragraph separators.
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}


def _blank_allowed(pattern: str) -> str:
    """``pattern`` (``^...$``) that also matches the empty string."""
    return f"^(?:{pattern[1:-1]})?$"


class ExternalIdField(TextField):
    """A source system's own id of a record (SF1470 UUIDIdentifikator or any stable id).

    Not trimmed: the id in the body is the one in the URL. One that holds a CPR-shaped
    number is refused (``cpr_shaped``, ``config.cpr_shape``) and never repeated, unless
    the whole id is a canonical UUID (``config.cpr_shape.uuid_canonical``).
    """

    def __init__(self, *, max_length: int = 100, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(max_length=max_length, **kwargs)

    def check(self, value: Any) -> str:
        text = _require_string(value)
        if not text:
            if self.allow_blank:
                return text
            raise FieldProblem("blank", "May not be blank.")
        if CONTROL_CHARACTERS.search(text):
            raise FieldProblem("invalid_character", "Contains a control character.")
        if cpr_shape_in_id(text):
            raise FieldProblem(
                "cpr_shaped",
                "Looks like a CPR number; an external id must never hold one "
                "(ids appear in URLs and logs).",
            )
        if len(text) > self.max_length:
            raise FieldProblem(
                "too_long", f"At most {self.max_length} characters (got {len(text)})."
            )
        if not EXTERNAL_ID_FORMAT.fullmatch(text):
            raise FieldProblem("invalid_external_id", f"{EXTERNAL_ID_RULE}.")
        return text

    def schema(self) -> dict:
        pattern = _blank_allowed(EXTERNAL_ID_PATTERN) if self.allow_blank else EXTERNAL_ID_PATTERN
        return {
            "pattern": pattern,
            "anyOf": [
                {"pattern": UUID_CANONICAL_PATTERN},
                {"not": {"pattern": CPR_SHAPE_ASCII_SCHEMA}},
            ],
        }


def external_id_problem(value: str) -> FieldProblem | None:
    """Why ``value`` (an id from a URL path) is no external id, or ``None``."""
    try:
        ExternalIdField().check(value)
    except FieldProblem as problem:
        return problem
    return None


def external_id_shown(value: Any) -> str:
    """A delivered id as a rejection may repeat and keep it: at most 100 characters, no
    NUL (PostgreSQL text cannot hold one: written ``\\u0000``), and "" for one that holds
    a CPR number."""
    if not isinstance(value, str) or cpr_shape_in_id(value):
        return ""
    return value.replace("\x00", "\\u0000")[:100]  # as indexes.services.errors.nul_free


class CaseNumberField(TextField):
    """A case number (Sagsnummer/BrugervendtNoegle): printable ASCII, trimmed of spaces.

    ASCII so that two spellings of one visible number (a fullwidth digit, a zero-width
    space, a non-breaking hyphen) cannot be two numbers: every product we know numbers
    its cases so (``2024-000123``, ``27.60.08-G01-1-24``). Cross-system references
    (``related_case_number``) use the same field, so they find the case.
    """

    def __init__(self, *, max_length: int = 50, **kwargs):
        super().__init__(max_length=max_length, **kwargs)

    def check(self, value: Any) -> str:
        text = _require_string(value)
        if not (text.isascii() and text.isprintable()):
            if any(unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in text):
                raise FieldProblem(
                    "invalid_character",
                    "Contains a control or invisible character (such as a zero-width space "
                    "or a soft hyphen).",
                )
            raise FieldProblem(
                "not_ascii",
                "Must be printable ASCII (letters A-Z, digits, punctuation, spaces): "
                "a look-alike character would make a second spelling of the number.",
            )
        return super().check(text)

    def schema(self) -> dict:
        return {"pattern": r"^[ -~]*$" if self.allow_blank else CASE_NUMBER_PATTERN}


class PatternField(WireField, serializers.CharField):
    """A code with a fixed format (municipality code, KLE number, facet code)."""

    def __init__(self, *, pattern: re.Pattern, description: str, **kwargs):
        self.pattern = pattern
        self.description = description
        kwargs.setdefault("max_length", 10)
        super().__init__(**kwargs)

    def check(self, value: Any) -> str:
        text = _require_string(value).strip()
        if not text and not self.allow_blank:
            raise FieldProblem("blank", "May not be blank.")
        if not self.pattern.fullmatch(text):
            raise FieldProblem("invalid_format", f"Must be {self.description}.")
        return text

    def schema(self) -> dict:
        return {"pattern": self.pattern.pattern}


class ChoiceField(WireField, serializers.ChoiceField):
    def check(self, value: Any) -> str:
        if not isinstance(value, str) or value not in self.choice_strings_to_values:
            allowed = ", ".join(f'"{choice}"' for choice in self.choices)
            raise FieldProblem("invalid_choice", f"Must be one of {allowed}.")
        return value


class BooleanField(WireField, serializers.BooleanField):
    """JSON ``true``/``false`` only: a typo'd "no" must not hide or expose a case."""

    def check(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise FieldProblem("invalid_type", "Must be true or false.")
        return value


# What PostgreSQL and the Europe/Copenhagen time zone can hold. Python's dates end at
# years 1 and 9999, so a date-time in year 1 or 9999 may not survive the conversion to
# UTC or to Copenhagen time (OverflowError in the worker); PostgreSQL's timestamptz
# refuses UTC offsets of 16 hours or more ("time zone displacement out of range").
# Every date and date-time of every record is bounded here, before it is accepted.
DATE_MIN = datetime.date(2, 1, 1)
DATE_MAX = datetime.date(9998, 12, 31)
MAX_UTC_OFFSET = datetime.timedelta(hours=16)  # exclusive: -15:59:59 … +15:59:59
# The same bounds for the OpenAPI schema (JSON Schema patterns, ECMA 262):
# years 0002-9998, offsets Z or ±00:00 … ±15:59.
_YEAR_PATTERN = (
    r"(?:000[2-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])"
)
DATE_PATTERN = rf"^{_YEAR_PATTERN}-[0-9]{{2}}-[0-9]{{2}}$"
DATETIME_PATTERN = (
    rf"^{_YEAR_PATTERN}-[0-9]{{2}}-[0-9]{{2}}T[0-9]{{2}}:[0-9]{{2}}(?::[0-9]{{2}}(?:\.[0-9]+)?)?"
    r"(?:Z|[+-](?:0[0-9]|1[0-5]):[0-5][0-9])$"
)
_DATE_RANGE = f"between {DATE_MIN.isoformat()} and {DATE_MAX.isoformat()}"


def _plain(value: Any) -> bool:
    """A string of printable ASCII: Python's parsers also take other digits (Arabic-Indic)
    and some control characters (a NUL), which neither the schema nor PostgreSQL does."""
    return isinstance(value, str) and value.isascii() and value.isprintable()


def _date_in_range(value: datetime.date) -> None:
    if not DATE_MIN <= value <= DATE_MAX:
        raise FieldProblem("out_of_range", f"Must be {_DATE_RANGE}.")


@extend_schema_field(
    {
        "type": "string",
        "format": "date",
        "pattern": DATE_PATTERN,
        "description": f"YYYY-MM-DD, {_DATE_RANGE}.",
    }
)
class DateField(WireField, serializers.DateField):
    def check(self, value: Any) -> datetime.date:
        if _plain(value) and len(value) == 10:
            try:
                parsed = parse_date(value)
            except ValueError:
                parsed = None
            if parsed is not None:
                _date_in_range(parsed)
                return parsed
        raise FieldProblem("invalid_date", "Must be a date as YYYY-MM-DD.")


@extend_schema_field(
    {
        "type": "string",
        "format": "date-time",
        "pattern": DATETIME_PATTERN,
        "description": (
            f"ISO 8601 with a UTC offset, {_DATE_RANGE}; the offset Z or within ±15:59."
        ),
    }
)
class DateTimeField(WireField, serializers.DateTimeField):
    """ISO 8601 with a UTC offset: ordering by source time must not depend on a guess."""

    def check(self, value: Any) -> datetime.datetime:
        parsed = None
        if _plain(value) and "T" in value:
            try:
                parsed = parse_datetime(value)
            except ValueError:
                parsed = None
        if parsed is None:
            raise FieldProblem(
                "invalid_datetime",
                "Must be an ISO 8601 date-time with UTC offset, e.g. 2024-05-01T10:00:00+02:00.",
            )
        offset = parsed.utcoffset() if parsed.tzinfo is not None else None
        if offset is None:
            raise FieldProblem(
                "timezone_required",
                "Must carry a UTC offset, e.g. 2024-05-01T10:00:00+02:00 or ...Z.",
            )
        if abs(offset) >= MAX_UTC_OFFSET:
            raise FieldProblem("out_of_range", "The UTC offset must be within ±15:59.")
        _date_in_range(parsed.date())
        return parsed


class AmountField(WireField, serializers.DecimalField):
    """DKK with øre: a decimal string ("1234.50") or a number; never negative."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("coerce_to_string", True)
        super().__init__(**kwargs)

    def check(self, value: Any) -> Decimal | None:
        if self.allow_null and isinstance(value, str) and not value.strip():
            return None  # as DRF's DecimalField: an empty optional amount is null
        if (
            isinstance(value, bool)
            or not isinstance(value, str | int | float)
            or (isinstance(value, str) and not AMOUNT_FORMAT.fullmatch(value))
        ):
            raise FieldProblem("invalid_amount", 'Must be a decimal string such as "1234.50".')
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite():
            raise FieldProblem("invalid_amount", 'Must be a decimal string such as "1234.50".')
        if amount < 0:
            raise FieldProblem("negative_amount", "Must not be negative.")
        # Before quantize(), which cannot hold more than 28 digits.
        if amount > MAX_AMOUNT:
            raise FieldProblem(
                "amount_too_large", "Too large: at most 12 digits before the decimal point."
            )
        cents = amount.quantize(Decimal("0.01"))
        if cents != amount:
            raise FieldProblem("too_many_decimals", "At most 2 decimals (øre).")
        if not cents:
            cents = Decimal("0.00")  # not "-0.00"
        return cents

    def schema(self) -> dict:
        # drf-spectacular's own pattern (-?\d{0,12}...) also matches "", "-" and "-1".
        return {"pattern": AMOUNT_PATTERN}


class CprField(WireField, serializers.CharField):
    """A CPR number, ``DDMMYY-SSSS`` or 10 digits; stored as 10 digits (DOMAIN.md §6).

    python-stdnum checks the birth date and century and rejects future birth
    dates; modulus 11 is not required (numbers without it are issued since 2007).
    """

    def check(self, value: Any) -> str:
        text = _require_string(value).strip()
        if not text:
            raise FieldProblem("blank", "May not be blank.")
        if not CPR_FORMAT.fullmatch(text):
            raise FieldProblem("invalid_cpr", "Must be a CPR number: DDMMYY-SSSS or 10 digits.")
        try:
            return stdnum_cpr.validate(text)
        except StdnumError:
            raise FieldProblem(
                "invalid_cpr", "Not a valid CPR number (birth date or century)."
            ) from None

    def schema(self) -> dict:
        # The birth date and century rules (python-stdnum) are beyond a pattern.
        return {"pattern": CPR_FORMAT.pattern}


class CvrField(WireField, serializers.CharField):
    """A CVR number: 8 digits with a valid check digit."""

    def check(self, value: Any) -> str:
        text = _require_string(value).strip()
        if not text:
            raise FieldProblem("blank", "May not be blank.")
        try:
            return stdnum_cvr.validate(text)
        except StdnumError:
            raise FieldProblem("invalid_cvr", "Not a valid CVR number (8 digits).") from None

    def schema(self) -> dict:
        # The check digit (modulus 11) is beyond a pattern.
        return {"pattern": r"^[0-9]{8}$"}


def municipality_field(**kwargs) -> PatternField:
    kwargs.setdefault(
        "help_text", "Kommunekode of the owner municipality; must be the source system's own."
    )
    return PatternField(
        pattern=MUNICIPALITY_FORMAT,
        description='a 3-digit municipality code such as "461"',
        **kwargs,
    )


def kle_number_field(**kwargs) -> PatternField:
    return PatternField(
        pattern=KLE_NUMBER_FORMAT,
        description='a KLE emne number such as "32.18.02"',
        help_text="KLE emne (xx.xx.xx) valid on the record's date.",
        **kwargs,
    )


# --- Case and document index (SF1470) --------------------------------------------


class PartyIn(serializers.Serializer):
    """Primaer part: exactly one of a CPR number or a CVR number."""

    cpr = CprField(required=False, help_text="DDMMYY-SSSS or 10 digits.")
    cvr = CvrField(required=False, help_text="8 digits.")


class ProgressIn(serializers.Serializer):
    """One period of the Fremdrift history, valid [from, to) (SF1470 §Tilstand)."""


# "from" is a Python keyword, so the fields are declared here rather than in the body.
ProgressIn._declared_fields = {
    "status": ChoiceField(choices=ProgressStatus.choices, help_text="FremdriftStatusKode."),
    "from": DateTimeField(help_text="Virkning/FraTidspunkt (inclusive)."),
    "to": DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Virkning/TilTidspunkt (exclusive); null = open (uendelig).",
    ),
}


class RecordIn(serializers.Serializer):
    """What every record carries: its id, the source system's time and the owner."""

    external_id = ExternalIdField(help_text="The source system's own id of the record.")
    source_timestamp = DateTimeField(
        help_text="Registrering/Tidspunkt in the source system; orders updates."
    )
    municipality = municipality_field()


# Sekundær part: SF1470 allows any number; a case with more is a data error, and the list
# is kept on the case as one value (its history is one diff).
MAX_SECONDARY_PARTIES = 20


class CasePartyIn(serializers.Serializer):
    """A case's secondary party or benefit recipient (SF1470 Sagspart *Sekundær part*,
    *Ydelsesmodtager*), or a grant's (YI Bevillingspart *Ydelsesmodtager*): a CPR or a CVR
    number, and the name (FuldtNavn). Never shown to citizens, and never a key to a
    citizen's overview."""

    cpr = CprField(required=False, help_text="DDMMYY-SSSS or 10 digits.")
    cvr = CvrField(required=False, help_text="8 digits.")
    name = TextField(max_length=255, required=False, help_text="FuldtNavn, e.g. the person's name.")


class CaseIn(RecordIn):
    """A case (Sag) for the case and document index."""

    case_number = CaseNumberField(help_text="Sagsnummer/BrugervendtNoegle.")
    title = TextField(max_length=255, help_text="Titel.")
    alternative_title = TextField(
        max_length=255, required=False, help_text="TitelAlternativTekst (never public)."
    )
    description = TextField(
        max_length=4096, required=False, single_line=False, help_text="Beskrivelse."
    )
    source_status_text = TextField(
        max_length=255, required=False, help_text="Sagsstatus in the source system."
    )
    sensitivity = ChoiceField(
        choices=Sensitivity.choices,
        required=False,
        default=Sensitivity.CONFIDENTIAL.value,
        help_text="Foelsomhed.",
    )
    hidden_from_citizen = BooleanField(
        required=False, default=False, help_text='"Visning undtaget for borger".'
    )
    kle_number = kle_number_field()
    facet = PatternField(
        pattern=FACET_FORMAT,
        description='a KLE handlingsfacet code such as "G01"',
        help_text="Handlingsfacet (Handlingsklasse).",
    )
    responsible_unit = TextField(
        max_length=255, required=False, help_text="Ansvarlig organisationsenhed."
    )
    primary_caseworker = TextField(
        max_length=255, required=False, help_text="Primaer behandler; never shown to citizens."
    )
    party = PartyIn(allow_null=True, help_text="Primaer part; null when there is none.")
    secondary_parties = CasePartyIn(
        many=True,
        required=False,
        default=list,
        max_length=MAX_SECONDARY_PARTIES,
        help_text=(
            "Sekundaer part: other parties of the case (at most 20), each exactly one of cpr "
            "or cvr, and a name. Never shown to citizens; they do not see the case."
        ),
    )
    benefit_recipient = CasePartyIn(
        required=False,
        allow_null=True,
        default=None,
        help_text=(
            "Ydelsesmodtager: who receives the benefit, only when it is not the primary party; "
            "as a secondary party. Null or absent otherwise."
        ),
    )
    residence_municipality = municipality_field(
        required=False,
        allow_null=True,
        default=None,
        help_text=(
            "Bopaelskommune: the kommunekode where the primary party lives, when it is not "
            "the owner municipality; null or absent otherwise."
        ),
    )
    decision_class = TextField(max_length=100, required=False, help_text="Afgoerelsesklasse.")
    created_on = DateField(help_text="The case's own creation date.")
    awaiting_party_since = DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text=(
            "Since when the municipality has been waiting for the primary party to act "
            "(send papers, answer a hearing); null or absent when it is not waiting. "
            'Not in SF1470: Mit Overblik shows the case as "Afventer dig". Refused on a '
            "case with an Afsluttet period and before created_on."
        ),
    )
    awaiting_party_due = DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text=(
            "By when the municipality needs the primary party to act; null or absent when "
            "it has set no date. Only with awaiting_party_since, and not before the day the "
            "wait began (a date already passed is accepted: Mit Overblik marks it overdue)."
        ),
    )
    awaiting_party_reason = TextField(
        max_length=255,
        required=False,
        allow_null=True,
        help_text=(
            "What the municipality waits for, in plain words the citizen reads, e.g. "
            '"Send lønsedler for de seneste tre måneder"; one line, no control characters. '
            "Only with awaiting_party_since; null, empty or absent when not said."
        ),
    )
    progress = ProgressIn(
        many=True,
        allow_empty=False,
        max_length=MAX_PROGRESS,
        help_text="The whole Fremdrift history, oldest first.",
    )
    related_cases = serializers.ListField(
        child=ExternalIdField(),
        required=False,
        max_length=MAX_LIST,
        default=list,
        help_text="External ids of related cases of the same source system.",
    )


class DocumentCaseIn(serializers.Serializer):
    case_external_id = ExternalIdField(help_text="A case of the same source system.")
    role = ChoiceField(choices=DocumentRole.choices, help_text="Journalpost role.")


class DocumentPartyIn(serializers.Serializer):
    """A document's sender or recipient (SF1470 Dokumentpart): a CPR or a CVR number, and
    the name (DokumentpartLokalUdvidelse/FuldtNavn). Never shown to citizens."""

    cpr = CprField(required=False, help_text="DDMMYY-SSSS or 10 digits.")
    cvr = CvrField(required=False, help_text="8 digits.")
    name = TextField(max_length=255, required=False, help_text="FuldtNavn, e.g. the person's name.")


class DocumentIn(RecordIn):
    """Document metadata (Dokument); citizens see at most its title."""

    title = TextField(max_length=255, help_text="Titel.")
    letter_date = DateField(required=False, allow_null=True, default=None, help_text="BrevDato.")
    type = ChoiceField(choices=DocumentType.choices, help_text="Dokument type.")
    status = ChoiceField(choices=DocumentStatus.choices, help_text="FremdriftStatusKode.")
    sensitivity = ChoiceField(
        choices=Sensitivity.choices,
        required=False,
        default=Sensitivity.CONFIDENTIAL.value,
        help_text="Foelsomhed.",
    )
    kle_number = kle_number_field(required=False, allow_null=True, default=None)
    hidden_from_citizen = BooleanField(
        required=False,
        default=False,
        help_text='"Visning undtaget for borger" of this document: never shown, not even its title.',
    )
    sender = DocumentPartyIn(
        required=False,
        allow_null=True,
        default=None,
        help_text=(
            "Afsender: who sent the document (for an incoming letter, the citizen or a "
            "company); exactly one of cpr or cvr, and a name. Null or absent when not known: "
            "data quality then lists a letter without it."
        ),
    )
    recipient = DocumentPartyIn(
        required=False,
        allow_null=True,
        default=None,
        help_text=("Modtager: who the document was sent to (for an outgoing letter); as sender."),
    )
    cases = DocumentCaseIn(
        many=True, max_length=MAX_LIST, help_text="The cases the document belongs to."
    )


# --- Benefit index (YI) ------------------------------------------------------------


class GrantPartyIn(serializers.Serializer):
    """Bevillingspart: the citizen the grant is for."""

    cpr = CprField(help_text="DDMMYY-SSSS or 10 digits.")


class PaymentPlanIn(serializers.Serializer):
    """OekonomiskEffektueringsplan."""

    frequency = TextField(max_length=50, help_text="Beregningsfrekvens, e.g. Månedlig.")
    timing = ChoiceField(choices=PaymentTiming.choices, help_text="ForudBagud.")
    payment_day = TextField(max_length=50, help_text="Dispositionsdag.")
    amount = AmountField(help_text="Ydelsesbeloeb.")
    start_on = DateField(required=False, allow_null=True, default=None)
    end_on = DateField(required=False, allow_null=True, default=None)


class BenefitIn(serializers.Serializer):
    """BevilgetYdelse."""

    external_id = ExternalIdField(max_length=36, help_text="BevilgetYdelse/Id.")
    name = TextField(max_length=255, help_text="Ydelsesnavn.")
    kind = ChoiceField(choices=BenefitKind.choices)
    kle_number = kle_number_field()
    start_on = DateField(help_text="BevilgetYdelseStartdato.")
    end_on = DateField(required=False, allow_null=True, default=None)
    status = ChoiceField(choices=BenefitStatus.choices)
    repayable = BooleanField(required=False, default=False, help_text="Tilbagebetalingspligtig.")
    description = TextField(max_length=4096, required=False, single_line=False)
    message = TextField(max_length=4096, required=False, single_line=False)
    delivered_by = TextField(max_length=255, required=False)
    granted_by = TextField(max_length=255, required=False)
    related_case = ExternalIdField(
        required=False,
        allow_null=True,
        default="",
        help_text="External id of the related case, a case of the same source system.",
    )
    related_case_number = CaseNumberField(
        required=False,
        allow_null=True,
        default="",
        help_text=(
            "Case number (Sagsnummer/BrugervendtNoegle) of the related case: of the same "
            "source system or of another source system of the grant's municipality (a "
            "payment system names the jobcentre's case). The citizen sees the benefit only "
            "if they may see that case; while no such case is known it is withheld."
        ),
    )
    payment_plan = PaymentPlanIn(required=False, allow_null=True, default=None)


class GrantIn(RecordIn):
    """A grant (Bevilling) with its granted benefits."""

    case_number = CaseNumberField(required=False, help_text="BrugervendtNoegle.")
    party = GrantPartyIn(allow_null=True)
    recipient = CasePartyIn(
        required=False,
        allow_null=True,
        default=None,
        help_text=(
            "Ydelsesmodtager: who receives the benefit, only when it is not the party (a "
            "landlord, a provider); exactly one of cpr or cvr, and a name. Null or absent "
            "otherwise. Never shown to citizens; they do not see the grant."
        ),
    )
    start_on = DateField(help_text="Bevillingstartdato.")
    end_on = DateField(required=False, allow_null=True, default=None)
    reason = TextField(max_length=4096, required=False, single_line=False)
    sensitivity = ChoiceField(
        choices=Sensitivity.choices, required=False, default=Sensitivity.CONFIDENTIAL.value
    )
    status = ChoiceField(choices=BenefitStatus.choices)
    related_case = ExternalIdField(
        required=False,
        allow_null=True,
        default="",
        help_text="External id of the related case, a case of the same source system.",
    )
    related_case_number = CaseNumberField(
        required=False,
        allow_null=True,
        default="",
        help_text=(
            "Case number of the related case, of this or another source system of the "
            "grant's municipality (see the benefit's field of the same name)."
        ),
    )
    benefits = BenefitIn(many=True, max_length=MAX_LIST)


class PeriodIn(serializers.Serializer):
    start = DateField()
    end = DateField()


class PaymentIn(RecordIn):
    """A payment (OekonomiskEffektuering) of an economic granted benefit."""

    grant_external_id = ExternalIdField(help_text="The grant, of the same source system.")
    benefit_external_id = ExternalIdField(max_length=36, help_text="BevilgetYdelseId.")
    disposal_date = DateField(help_text="Dispositionsdato.")
    period = PeriodIn(help_text="Ydelsesperiode.")
    gross_amount = AmountField(help_text="SamletBruttobeloeb.")
    amount_after_tax = AmountField(help_text="BeloebEfterSkatATP.")
    amount_sent = AmountField(required=False, allow_null=True, default=None)
    amount_paid = AmountField(required=False, allow_null=True, default=None)
    paying_office = TextField(max_length=255, required=False, help_text="Udbetalingsafdeling.")


SERIALIZERS: dict[str, type[serializers.Serializer]] = {
    "case": CaseIn,
    "document": DocumentIn,
    "grant": GrantIn,
    "payment": PaymentIn,
}
