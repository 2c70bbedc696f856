"""A unit's approved KLE numbers from a file (issue 16): the centres' own lists (seed 002).

The file is CSV (``;``, ``,`` or tab) with a header naming the columns ``Enhed`` and
``KLE-nr.`` and optionally ``Fagsystem`` (a source system of the municipality by name;
empty: all its systems). Lines already there are left alone; a line naming a number that
is no KLE emne, or an unknown source system, is rejected with its line number and nothing
of it is saved. Nothing is ever deleted by an import.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from borgerblikket.models import ApprovedKleNumber
from indexes.models import Municipality, SourceSystem
from kle.models import Subject

MAX_LINES = 20_000


class ApprovedKleFileError(ValueError):
    """The file as a whole cannot be read (no header, wrong columns, too long)."""


@dataclass
class ApprovedKleImport:
    added: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _columns(header: list[str]) -> dict[str, int]:
    names = {name.strip().lower().rstrip("."): index for index, name in enumerate(header)}
    wanted = {"unit": "enhed", "kle_number": "kle-nr", "source_system": "fagsystem"}
    columns = {key: names[name] for key, name in wanted.items() if name in names}
    if "unit" not in columns or "kle_number" not in columns:
        raise ApprovedKleFileError(_('Overskriften skal navngive kolonnerne "Enhed" og "KLE-nr."'))
    return columns


def approved_kle_import(*, municipality: Municipality, text: str) -> ApprovedKleImport:
    """Add the file's (unit, KLE number[, source system]) lines to the municipality's lists."""
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
    lines = list(csv.reader(io.StringIO(text), dialect))
    if not lines:
        raise ApprovedKleFileError(_("Filen er tom."))
    if len(lines) > MAX_LINES + 1:
        raise ApprovedKleFileError(_("Højst %(most)s linjer.") % {"most": MAX_LINES})
    columns = _columns(lines[0])
    topics = set(Subject.objects.filter(level=Subject.Level.TOPIC).values_list("number", flat=True))
    systems = {
        name.casefold(): pk
        for pk, name in SourceSystem.objects.filter(municipality=municipality).values_list(
            "pk", "name"
        )
    }
    result = ApprovedKleImport()
    wanted: list[tuple[int | None, str, str]] = []
    for number, line in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in line):
            continue

        def cell(key: str, line=line) -> str:
            index = columns.get(key)
            return line[index].strip() if index is not None and index < len(line) else ""

        unit, kle_number, system_name = cell("unit"), cell("kle_number"), cell("source_system")
        if not unit:
            result.rejected.append((number, _("Ingen enhed.")))
        elif kle_number not in topics:
            result.rejected.append(
                (
                    number,
                    _("%(number)s er ikke et KLE-emne.") % {"number": kle_number or _("(tomt)")},
                )
            )
        elif system_name and system_name.casefold() not in systems:
            result.rejected.append(
                (
                    number,
                    _("Kommunen har intet fagsystem ved navn %(name)s.") % {"name": system_name},
                )
            )
        else:
            system = systems[system_name.casefold()] if system_name else None
            wanted.append((system, unit[:255], kle_number))
    with transaction.atomic():
        existing = set(
            ApprovedKleNumber.objects.filter(municipality=municipality).values_list(
                "source_system_id", "unit", "kle_number"
            )
        )
        new = []
        for key in dict.fromkeys(wanted):
            if key in existing:
                result.unchanged += 1
                continue
            system, unit, kle_number = key
            new.append(
                ApprovedKleNumber(
                    municipality=municipality,
                    source_system_id=system,
                    unit=unit,
                    kle_number=kle_number,
                )
            )
        ApprovedKleNumber.objects.bulk_create(new)
        result.added = len(new)
    return result
