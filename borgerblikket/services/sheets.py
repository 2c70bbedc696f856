"""Writes to a municipality's configuration sheet, each kept as a ``SheetChange``.

Every write goes through here (the admin, the import and a revert), so the
change history is complete: who, when, before → after, and any change can be
reverted.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from borgerblikket import validators
from borgerblikket.models import Sheet, SheetChange, SheetRow
from indexes.models import EventType, Municipality, SourceSystem
from indexes.services.events import EventSpec, events_emit
from kle.models import Subject

# The sheet's columns after KLE-nr., in the sheet's order (the model's field names).
ROW_FIELDS = (
    "display_name",
    "source_system",
    "show_from",
    "contact_department",
    "contact_phone",
    "info_url",
    "digital_post_url",
    "self_service_name",
    "self_service_url",
    # Sagsbehandlingsfrist: one column in the file ("8 uger"), two fields in the row.
    "processing_time",
    "processing_time_unit",
)
SETTINGS_FIELDS = (
    "show_document_titles",
    "show_active_cases_before_show_from",
    "title_source",
    "idle_days",
    "retention_days",
    "sensitive_titles_assurance",
)


class SheetError(Exception):
    """A sheet write that cannot be done; ``field`` names the column or field."""

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class RowWarning:
    """Something in a cell that is imported but most likely wrong.

    ``problem`` is the same text for every line it applies to (the import preview says
    it once, with those lines); ``value`` is what this line holds.
    """

    column: str
    problem: str
    value: str = ""

    def __str__(self) -> str:
        return f"{self.column}: {self.problem}" + (f" ({self.value})" if self.value else "")


@dataclass
class RowCheck:
    """The outcome of checking one row's values: cleaned values, errors and warnings."""

    values: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)


def kle_subject_for_sheet(*, number: str) -> Subject:
    """The KLE emne a sheet row may name: it exists, is an emne and is neither expired nor moved."""
    number = validators.kle_topic_number_parse(number)
    subject = Subject.objects.filter(number=number).first()
    if subject is None:
        raise ValueError(_("KLE-nummer %(number)s findes ikke i KLE") % {"number": number})
    if subject.level != Subject.Level.TOPIC:
        raise ValueError(_("KLE-nummer %(number)s er ikke et emne") % {"number": number})
    if subject.moved_on is not None:
        successors = ", ".join(s.number for s in subject.successors.all()) or _("et andet nummer")
        raise ValueError(
            _("KLE-nummer %(number)s er flyttet %(date)s (afløst af %(successors)s)")
            % {"number": number, "date": f"{subject.moved_on:%d-%m-%Y}", "successors": successors}
        )
    if subject.expired_on is not None:
        raise ValueError(
            _("KLE-nummer %(number)s er udgået %(date)s")
            % {"number": number, "date": f"{subject.expired_on:%d-%m-%Y}"}
        )
    return subject


def source_system_for_sheet(*, municipality: Municipality, name: str) -> SourceSystem | None:
    """The municipality's source system a "Fagsystem" cell names (its name, else its product)."""
    name = (name or "").strip()
    if not name:
        return None
    systems = SourceSystem.objects.filter(municipality=municipality)
    by_name = list(systems.filter(name__iexact=name))
    if len(by_name) == 1:
        return by_name[0]
    by_product = list(systems.filter(product__iexact=name))
    if len(by_product) == 1:
        return by_product[0]
    if len(by_product) > 1:
        raise ValueError(
            _("fagsystemet '%(name)s' er tvetydigt: kommunen har flere; skriv systemets navn")
            % {"name": name}
        )
    raise ValueError(
        _("fagsystemet '%(name)s' findes ikke i %(municipality)s Kommune")
        % {"name": name, "municipality": municipality.name}
    )


def sheet_row_check(*, municipality: Municipality, cells: dict) -> RowCheck:
    """Check one row's raw cells (keys: ``kle_number`` and the columns of ``COLUMN_LABELS``)
    as the sheet holds them (``processing_time``: the cell "8 uger", giving both fields).

    Only keys present in ``cells`` are checked and returned, so a file without a
    column leaves that column's values as they are.
    """
    check = RowCheck()
    labels = COLUMN_LABELS
    try:
        subject = kle_subject_for_sheet(number=cells.get("kle_number", ""))
        check.values["kle_subject"] = subject
    except ValueError as exc:
        check.errors.append(f"{labels['kle_number']}: {exc}")
        subject = None
    if "display_name" in cells:
        name = str(cells["display_name"] or "").strip()
        if len(name) > 255:
            check.errors.append(labels["display_name"] + ": " + _("længere end 255 tegn"))
        elif subject is not None and name and name != subject.title:
            check.warnings.append(
                RowWarning(
                    labels["display_name"],
                    _("afviger fra KLE's titel; borgeren ser arkets navn"),
                    f"'{name}', KLE: '{subject.title}'",
                )
            )
        # A name equal to KLE's title is stored as empty, so it follows KLE's own renames.
        check.values["display_name"] = "" if subject is not None and name == subject.title else name
    if "source_system" in cells:
        try:
            system = source_system_for_sheet(
                municipality=municipality, name=str(cells["source_system"] or "")
            )
            check.values["source_system"] = system
            if system is not None and not system.is_active:
                check.warnings.append(
                    RowWarning(
                        labels["source_system"],
                        _("'%(name)s' er ikke aktivt") % {"name": system.name},
                    )
                )
        except ValueError as exc:
            check.errors.append(f"{labels['source_system']}: {exc}")
    if "show_from" in cells:
        try:
            check.values["show_from"] = validators.date_parse(cells["show_from"])
        except ValueError as exc:
            check.errors.append(f"{labels['show_from']}: {exc}")
    elif "kle_number" in cells:
        check.errors.append(labels["show_from"] + ": " + _("datoen mangler"))
    if "contact_phone" in cells:
        try:
            check.values["contact_phone"] = validators.phone_parse(cells["contact_phone"])
        except ValueError as exc:
            check.errors.append(f"{labels['contact_phone']}: {exc}")
    for name in ("info_url", "digital_post_url", "self_service_url"):
        if name in cells:
            try:
                check.values[name] = validators.link_parse(cells[name])
                check.warnings.extend(
                    RowWarning(labels[name], problem, check.values[name])
                    for problem in validators.link_warnings(check.values[name])
                )
            except ValueError as exc:
                check.errors.append(f"{labels[name]}: {exc}")
    for name in ("contact_department", "self_service_name"):
        if name in cells:
            text = str(cells[name] or "").strip()
            if len(text) > 255:
                check.errors.append(labels[name] + ": " + _("længere end 255 tegn"))
            check.values[name] = text
    if "processing_time" in cells:
        try:
            number, unit = validators.processing_time_parse(cells["processing_time"])
            check.values["processing_time"] = number
            check.values["processing_time_unit"] = unit
        except ValueError as exc:
            check.errors.append(f"{labels['processing_time']}: {exc}")
    return check


# The sheet's column headings, as in KOMBIT's template and Odense's sheet.
COLUMN_LABELS = {
    "kle_number": "KLE-nr.",
    "display_name": "KLE-navn",
    "source_system": "Fagsystem",
    "show_from": "Fradato for visning",
    "contact_department": "Kontaktafdeling",
    "contact_phone": "Kontakttelefon",
    "info_url": "Link til yderligere information",
    "digital_post_url": "Digitalpost kontaktpunkt (postkasse)",
    "self_service_name": "Selvbetjeningsnavn",
    "self_service_url": "Selvbetjeningslink",
    # Not in KOMBIT's template (issue 14): last, so the template's columns keep their places;
    # a file without it imports and leaves the rows' processing times as they are.
    "processing_time": "Sagsbehandlingsfrist",
}


def sheet_row_snapshot(*, row: SheetRow | None) -> dict | None:
    """A row as JSON for the change history (``None``: no row)."""
    if row is None:
        return None
    return {
        "kle_number": row.kle_subject.number,
        "display_name": row.display_name,
        "source_system": row.source_system.name if row.source_system_id else None,
        "source_system_id": row.source_system_id,
        "show_from": row.show_from.isoformat(),
        "contact_department": row.contact_department,
        "contact_phone": row.contact_phone,
        "info_url": row.info_url,
        "digital_post_url": row.digital_post_url,
        "self_service_name": row.self_service_name,
        "self_service_url": row.self_service_url,
        "processing_time": row.processing_time,
        "processing_time_unit": row.processing_time_unit,
    }


def sheet_settings_snapshot(*, sheet: Sheet | None) -> dict | None:
    if sheet is None:
        return None
    return {name: getattr(sheet, name) for name in SETTINGS_FIELDS}


def _log(*, municipality, target, kle_number, before, after, user, via, reverts=None):
    if before == after:
        return None
    if before is None:
        action = SheetChange.Action.CREATED
    elif after is None:
        action = SheetChange.Action.DELETED
    else:
        action = SheetChange.Action.UPDATED
    change = SheetChange.objects.create(
        municipality=municipality,
        target=target,
        kle_number=kle_number,
        action=action,
        via=via,
        user=user,
        before=before,
        after=after,
        reverts=reverts,
    )
    # Events back (issue 18): every source system of the municipality may learn that what
    # its citizens see changed; in this transaction, so only a saved change is told.
    events_emit(
        events=[
            EventSpec(
                type=EventType.SHEET_CHANGED,
                subject=f"sheet/{municipality.pk}",
                municipality_id=municipality.pk,
                ordering_key=f"sheet:{municipality.pk}",
                data={
                    "municipality": municipality.pk,
                    "change": change.pk,
                    "target": target,
                    "kle_number": kle_number,
                    "action": action,
                },
            )
        ]
    )
    return change


def _check_source_system(*, municipality: Municipality, values: dict) -> None:
    system = values.get("source_system")
    if system is not None and system.municipality_id != municipality.pk:
        raise SheetError(_("Fagsystemet hører til en anden kommune"), field="source_system")


@transaction.atomic
def sheet_row_save(
    *,
    municipality: Municipality,
    kle_subject: Subject,
    values: dict,
    user,
    via: str = SheetChange.Via.ADMIN,
    reverts: SheetChange | None = None,
) -> tuple[SheetRow, SheetChange | None]:
    """Create or update the municipality's row for a KLE emne; log the change if any."""
    _check_source_system(municipality=municipality, values=values)
    unknown = set(values) - set(ROW_FIELDS)
    if unknown:
        raise SheetError(_("Ukendte felter: %(fields)s") % {"fields": sorted(unknown)})
    row = (
        SheetRow.objects.select_for_update(of=("self",))
        .select_related("kle_subject", "source_system")
        .order_by()
        .filter(municipality=municipality, kle_subject=kle_subject)
        .first()
    )
    before = sheet_row_snapshot(row=row)
    if row is None:
        if "show_from" not in values:
            raise SheetError(_("Fradato for visning mangler"), field="show_from")
        row = SheetRow(municipality=municipality, kle_subject=kle_subject)
    for name, value in values.items():
        setattr(row, name, value)
    after = sheet_row_snapshot(row=row)
    if after == before:
        return row, None
    row.updated_at = timezone.now()
    row.full_clean(validate_unique=False)
    row.save()
    _ensure_sheet(municipality=municipality)
    change = _log(
        municipality=municipality,
        target=SheetChange.Target.ROW,
        kle_number=kle_subject.number,
        before=before,
        after=after,
        user=user,
        via=via,
        reverts=reverts,
    )
    return row, change


@transaction.atomic
def sheet_row_delete(
    *, row: SheetRow, user, via: str = SheetChange.Via.ADMIN, reverts: SheetChange | None = None
) -> SheetChange:
    """Remove a row (the KLE emne is no longer shown); the change is kept."""
    before = sheet_row_snapshot(row=row)
    municipality = row.municipality
    row.delete()
    return _log(
        municipality=municipality,
        target=SheetChange.Target.ROW,
        kle_number=before["kle_number"],
        before=before,
        after=None,
        user=user,
        via=via,
        reverts=reverts,
    )


def _ensure_sheet(*, municipality: Municipality) -> Sheet:
    return Sheet.objects.get_or_create(municipality=municipality)[0]


@transaction.atomic
def sheet_settings_update(
    *,
    municipality: Municipality,
    values: dict,
    user,
    via: str = SheetChange.Via.ADMIN,
    reverts: SheetChange | None = None,
) -> tuple[Sheet, SheetChange | None]:
    """Change the municipality's switches; log the change if any."""
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise SheetError(_("Ukendte felter: %(fields)s") % {"fields": sorted(unknown)})
    sheet = Sheet.objects.select_for_update().filter(municipality=municipality).first()
    before = sheet_settings_snapshot(sheet=sheet)
    if sheet is None:
        sheet = Sheet(municipality=municipality)
    for name, value in values.items():
        setattr(sheet, name, value)
    after = sheet_settings_snapshot(sheet=sheet)
    if before == after:
        return sheet, None
    sheet.updated_at = timezone.now()
    sheet.full_clean(validate_unique=False)
    sheet.save()
    change = _log(
        municipality=municipality,
        target=SheetChange.Target.SETTINGS,
        kle_number="",
        before=before,
        after=after,
        user=user,
        via=via,
        reverts=reverts,
    )
    return sheet, change


@transaction.atomic
def sheet_change_revert(*, change: SheetChange, user) -> SheetChange | None:
    """Bring back what ``change`` replaced (its ``before``); the revert is itself a change.

    Returns ``None`` when the sheet already is as it was before the change.
    """
    municipality = change.municipality
    if change.target == SheetChange.Target.SETTINGS:
        state = change.before or {
            name: Sheet._meta.get_field(name).default for name in SETTINGS_FIELDS
        }
        _settings, new = sheet_settings_update(
            municipality=municipality,
            values=state,
            user=user,
            via=SheetChange.Via.REVERT,
            reverts=change,
        )
        return new
    subject = Subject.objects.filter(number=change.kle_number).first()
    if subject is None:
        raise SheetError(
            _("KLE-nummer %(number)s findes ikke længere i KLE") % {"number": change.kle_number}
        )
    row = SheetRow.objects.filter(municipality=municipality, kle_subject=subject).first()
    if change.before is None:
        if row is None:
            return None
        return sheet_row_delete(row=row, user=user, via=SheetChange.Via.REVERT, reverts=change)
    values = _row_values_from_snapshot(municipality=municipality, snapshot=change.before)
    _row, new = sheet_row_save(
        municipality=municipality,
        kle_subject=subject,
        values=values,
        user=user,
        via=SheetChange.Via.REVERT,
        reverts=change,
    )
    return new


def _row_values_from_snapshot(*, municipality: Municipality, snapshot: dict) -> dict:
    system = None
    if snapshot.get("source_system_id") is not None:
        system = SourceSystem.objects.filter(
            pk=snapshot["source_system_id"], municipality=municipality
        ).first()
        if system is None:
            raise SheetError(
                _("Fagsystemet '%(name)s' findes ikke længere")
                % {"name": snapshot.get("source_system")},
                field="source_system",
            )
    values = {name: snapshot[name] for name in ROW_FIELDS if name in snapshot}
    values["source_system"] = system
    values["show_from"] = dt.date.fromisoformat(snapshot["show_from"])
    return values
