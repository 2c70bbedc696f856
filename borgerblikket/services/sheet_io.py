"""Import and export of the configuration sheet as XLSX, CSV or TSV, in the sheet's columns.

An import is two steps: ``sheet_import_start`` stores the upload and returns its
plan (rows to add, to change, unchanged, rejected with line and reason), and
nothing is applied; ``sheet_import_apply`` re-plans the stored upload and applies
the valid rows in one transaction. Rows not in the file are kept.
"""

from dataclasses import dataclass, field
from functools import partial

import tablib
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export import fields, resources
from import_export.formats import base_formats
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from borgerblikket import validators
from borgerblikket.models import SheetChange, SheetImport, SheetRow
from borgerblikket.services.sheet_files import (  # noqa: F401 - re-exported for the admin
    SheetFileError,
    sheet_file_rows,
    sheet_upload_read,
)
from borgerblikket.services.sheets import (
    COLUMN_LABELS,
    RowWarning,
    SheetError,
    sheet_row_check,
    sheet_row_save,
)
from indexes.models import Municipality

FORMATS = {"xlsx": base_formats.XLSX, "csv": base_formats.CSV, "tsv": base_formats.TSV}
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
}
# Odense's sheet (and KOMBIT's template) open with this column, holding "KLE".
FIRST_COLUMN = "KONFIGURATION af KLE-numre i Borgerblikket"
HEADERS = (FIRST_COLUMN, *COLUMN_LABELS.values())


def _normalise_heading(text: object) -> str:
    return " ".join(str(text or "").split()).casefold()


_HEADING_TO_FIELD = {_normalise_heading(label): name for name, label in COLUMN_LABELS.items()}
_HEADING_TO_FIELD[_normalise_heading("Digitalpost kontaktpunkt")] = "digital_post_url"
_HEADING_TO_FIELD[_normalise_heading("KLE-nr")] = "kle_number"
_HEADING_TO_FIELD[_normalise_heading(FIRST_COLUMN)] = "_marker"


# --- export (django-import-export resource in the sheet's columns) ----------------------


class SheetRowResource(resources.ModelResource):
    """A sheet row in exactly the sheet's columns (export)."""

    marker = fields.Field(column_name=FIRST_COLUMN)
    kle_number = fields.Field(column_name=COLUMN_LABELS["kle_number"])
    display_name = fields.Field(column_name=COLUMN_LABELS["display_name"])
    source_system = fields.Field(column_name=COLUMN_LABELS["source_system"])
    show_from = fields.Field(column_name=COLUMN_LABELS["show_from"])
    contact_department = fields.Field(
        attribute="contact_department", column_name=COLUMN_LABELS["contact_department"]
    )
    contact_phone = fields.Field(
        attribute="contact_phone", column_name=COLUMN_LABELS["contact_phone"]
    )
    info_url = fields.Field(attribute="info_url", column_name=COLUMN_LABELS["info_url"])
    digital_post_url = fields.Field(
        attribute="digital_post_url", column_name=COLUMN_LABELS["digital_post_url"]
    )
    self_service_name = fields.Field(
        attribute="self_service_name", column_name=COLUMN_LABELS["self_service_name"]
    )
    self_service_url = fields.Field(
        attribute="self_service_url", column_name=COLUMN_LABELS["self_service_url"]
    )
    processing_time = fields.Field(column_name=COLUMN_LABELS["processing_time"])

    class Meta:
        model = SheetRow
        fields = (
            "marker",
            "kle_number",
            "display_name",
            "source_system",
            "show_from",
            "contact_department",
            "contact_phone",
            "info_url",
            "digital_post_url",
            "self_service_name",
            "self_service_url",
            "processing_time",
        )
        export_order = fields

    def dehydrate_marker(self, row):
        return "KLE"

    def dehydrate_kle_number(self, row):
        return row.kle_subject.number

    def dehydrate_display_name(self, row):
        return row.display_name or row.kle_subject.title

    def dehydrate_source_system(self, row):
        return row.source_system.name if row.source_system_id else ""

    def dehydrate_show_from(self, row):
        return validators.date_format(row.show_from)

    def dehydrate_processing_time(self, row):
        return validators.processing_time_format(row.processing_time, row.processing_time_unit)


# A cell a spreadsheet program would run as a formula (OWASP "CSV injection")
# is exported behind an apostrophe, which the import takes off again.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell_escape(value):
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters XLSX cannot hold
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


# The same escape for the admin's other CSV files (usage and satisfaction, issue 16).
cell_escape = _cell_escape


def _cell_unescape(value):
    if isinstance(value, str) and value[:1] == "'" and value[1:].startswith(_FORMULA_STARTS):
        return value[1:]
    return value


def _in_areas(number: str, areas: tuple[str, ...] | None) -> bool:
    return areas is None or any(number == a or number.startswith(f"{a}.") for a in areas)


def sheet_export(
    *, municipality: Municipality, file_format: str, areas: tuple[str, ...] | None = None
) -> bytes:
    """The municipality's sheet as a file in the sheet's columns (an area admin's: the rows
    of their KLE ``areas`` only)."""
    if file_format not in FORMATS:
        raise SheetError(
            _("Ukendt format '%(format)s'; brug xlsx, csv eller tsv") % {"format": file_format},
            field="format",
        )
    rows = (
        SheetRow.objects.filter(municipality=municipality)
        .select_related("kle_subject", "source_system")
        .order_by("kle_subject__number")
    )
    if areas is not None:
        inside = Q(pk__in=[])
        for area in areas:
            inside |= Q(kle_subject__number=area) | Q(kle_subject__number__startswith=f"{area}.")
        rows = rows.filter(inside)
    dataset = SheetRowResource().export(queryset=rows)
    dataset = tablib.Dataset(
        *[tuple(_cell_escape(value) for value in row) for row in dataset],
        headers=dataset.headers,
    )
    data = FORMATS[file_format]().export_data(dataset)
    return data.encode("utf-8") if isinstance(data, str) else data


# --- reading a file -------------------------------------------------------------------------


def _read_rows(*, content: bytes, file_format: str) -> list[tuple[int, list]]:
    """(line number, cells) of every line, within the bounds of ``sheet_files``."""
    return [
        (number, [_cell_unescape(value) for value in cells])
        for number, cells in sheet_file_rows(content=content, file_format=file_format)
    ]


@dataclass
class PlannedLine:
    """What an import will do with one line of the file."""

    line: int
    kle_number: str
    action: str  # "add", "change", "unchanged" or "reject"
    errors: list[str] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (column, before, after)
    values: dict = field(default_factory=dict)


@dataclass
class WarningGroup:
    """One problem and every line it applies to, with what each line holds."""

    column: str
    problem: str
    lines: list[tuple[PlannedLine, str]] = field(default_factory=list)


@dataclass
class ImportPlan:
    lines: list[PlannedLine]
    file_warnings: list[str] = field(default_factory=list)

    @property
    def warning_groups(self) -> list[WarningGroup]:
        """Each warning once, with its lines, in the order the file first has them
        (Odense's sheet has the same Digital Post problem on every line)."""
        groups: dict[tuple[str, str], WarningGroup] = {}
        for line in self.lines:
            for warning in line.warnings:
                key = (warning.column, warning.problem)
                group = groups.setdefault(key, WarningGroup(warning.column, warning.problem))
                group.lines.append((line, warning.value))
        return list(groups.values())

    def of(self, action: str) -> list[PlannedLine]:
        return [line for line in self.lines if line.action == action]

    @property
    def added(self):
        return self.of("add")

    @property
    def changed(self):
        return self.of("change")

    @property
    def unchanged(self):
        return self.of("unchanged")

    @property
    def rejected(self):
        return self.of("reject")


def _column_value(name: str, get) -> object:
    """What one column holds, read with ``get(field name)``: the processing time's column
    is its two fields together."""
    if name == "processing_time":
        return (get("processing_time"), get("processing_time_unit"))
    return get(name)


def _shown(name: str, value) -> str:
    if name == "processing_time":
        return validators.processing_time_format(*value)
    if value is None:
        return ""
    if name == "source_system":
        return value.name
    if name == "show_from":
        return validators.date_format(value)
    return str(value)


def sheet_import_plan(
    *,
    municipality: Municipality,
    content: bytes,
    file_format: str,
    areas: tuple[str, ...] | None = None,
) -> ImportPlan:
    """What importing the file would do, line by line. Writes nothing. With ``areas`` (an
    area admin's KLE main groups and groups) a line of another KLE number is rejected."""
    rows = _read_rows(content=content, file_format=file_format)
    header_at = next(
        (
            i
            for i, (_line, cells) in enumerate(rows)
            if any(_HEADING_TO_FIELD.get(_normalise_heading(c)) == "kle_number" for c in cells)
        ),
        None,
    )
    if header_at is None:
        raise SheetFileError(_("Filen har ingen overskriftsrække med kolonnen 'KLE-nr.'"))
    headings = rows[header_at][1]
    columns: dict[int, str] = {}
    file_warnings = []
    for index, heading in enumerate(headings):
        name = _HEADING_TO_FIELD.get(_normalise_heading(heading))
        if name is None:
            if str(heading or "").strip():
                file_warnings.append(
                    _("Kolonnen '%(heading)s' kendes ikke og springes over") % {"heading": heading}
                )
            continue
        if name in columns.values():
            raise SheetFileError(_("Kolonnen '%(heading)s' står to gange") % {"heading": heading})
        columns[index] = name
    if "show_from" not in columns.values():
        raise SheetFileError(_("Filen mangler kolonnen 'Fradato for visning'"))

    existing = {
        row.kle_subject.number: row
        for row in SheetRow.objects.filter(municipality=municipality).select_related(
            "kle_subject", "source_system"
        )
    }
    seen: dict[str, int] = {}
    lines = []
    for number, cells in rows[header_at + 1 :]:
        raw = {
            name: cells[index] if index < len(cells) else None for index, name in columns.items()
        }
        if all(value in (None, "") or str(value).strip() == "" for value in raw.values()):
            continue  # a blank line
        marker = raw.pop("_marker", None)
        kle_number = str(raw.get("kle_number") or "").strip()
        line = PlannedLine(line=number, kle_number=kle_number, action="reject")
        lines.append(line)
        if marker not in (None, "") and str(marker).strip().upper() != "KLE":
            line.errors.append(
                FIRST_COLUMN + ": " + _("skal være 'KLE', ikke '%(marker)s'") % {"marker": marker}
            )
        check = sheet_row_check(municipality=municipality, cells=raw)
        line.errors.extend(check.errors)
        line.warnings.extend(check.warnings)
        if kle_number in seen:
            line.errors.append(
                _("KLE-nr.: %(number)s står også i linje %(line)s")
                % {"number": kle_number, "line": seen[kle_number]}
            )
        else:
            seen[kle_number] = number
        if kle_number and not _in_areas(kle_number, areas):
            line.errors.append(
                _("KLE-nr.: %(number)s ligger uden for dine områder (%(areas)s)")
                % {"number": kle_number, "areas": ", ".join(areas)}
            )
        if line.errors:
            continue
        values = {k: v for k, v in check.values.items() if k != "kle_subject"}
        line.values = {"kle_subject": check.values["kle_subject"], **values}
        current = existing.get(kle_number)
        if current is None:
            line.action = "add"
            continue
        for name in COLUMN_LABELS:
            if name == "kle_number" or name not in values:
                continue
            before = _column_value(name, partial(getattr, current))
            after = _column_value(name, values.get)
            if after != before:
                line.changes.append(
                    (COLUMN_LABELS[name], _shown(name, before), _shown(name, after))
                )
        line.action = "change" if line.changes else "unchanged"
    return ImportPlan(lines=lines, file_warnings=file_warnings)


def sheet_import_start(
    *,
    municipality: Municipality,
    user,
    file_name: str,
    content: bytes,
    file_format: str,
    areas: tuple[str, ...] | None = None,
) -> tuple[SheetImport, ImportPlan]:
    """Store an upload and return its plan; nothing of it is applied yet."""
    plan = sheet_import_plan(
        municipality=municipality, content=content, file_format=file_format, areas=areas
    )
    upload = SheetImport.objects.create(
        municipality=municipality,
        user=user,
        file_name=file_name[:255],
        file_format=file_format,
        content=content,
    )
    return upload, plan


@transaction.atomic
def sheet_import_apply(
    *, sheet_import: SheetImport, user, areas: tuple[str, ...] | None = None
) -> ImportPlan:
    """Apply a previewed upload: the rows to add and change, each logged; rejected rows are not
    (with ``areas``: every line outside them is rejected, as in the preview)."""
    upload = SheetImport.objects.select_for_update().get(pk=sheet_import.pk)
    if upload.applied_at is not None:
        raise SheetError(_("Importen er allerede gennemført"))
    if upload.user_id != user.pk:
        raise SheetError(_("Importen tilhører en anden bruger"))
    plan = sheet_import_plan(
        municipality=upload.municipality,
        content=bytes(upload.content),
        file_format=upload.file_format,
        areas=areas,
    )
    for line in plan.added + plan.changed:
        values = dict(line.values)
        subject = values.pop("kle_subject")
        sheet_row_save(
            municipality=upload.municipality,
            kle_subject=subject,
            values=values,
            user=user,
            via=SheetChange.Via.IMPORT,
        )
    upload.applied_at = timezone.now()
    upload.save(update_fields=["applied_at"])
    return plan
