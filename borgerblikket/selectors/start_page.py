"""The admin's start page for a municipal user: one panel per municipality of their roles."""

from dataclasses import dataclass, field

from borgerblikket.models import Membership, Sheet, SheetRow
from borgerblikket.selectors import quality, rollout
from borgerblikket.selectors.scoping import (
    area_condition,
    is_operator,
    municipalities_for_user,
    user_may,
    user_roles,
)


@dataclass
class MunicipalityStart:
    """What a municipal user works on in one municipality, as far as their role reaches."""

    code: str
    name: str
    role: str
    areas: tuple[str, ...]
    may: dict[str, bool]
    row_count: int | None = None
    sheet_updated: object = None
    checks: list[tuple[str, str, int]] = field(default_factory=list)  # (key, label, count)
    problem_total: int = 0
    position: rollout.MunicipalityRollout | None = None


def start_page_for_user(*, user) -> list[MunicipalityStart]:
    """A panel per municipality of the user's memberships (none for operators and
    superusers, who keep the list of all pages)."""
    if is_operator(user=user) or not user.is_staff:
        return []
    roles = {code: (role, areas) for code, role, areas in user_roles(user=user)}
    if not roles:
        return []
    positions = {s.code: s for s in rollout.rollout_status() if s.code in roles}
    panels = []
    for municipality in municipalities_for_user(user=user).filter(code__in=roles):
        code = municipality.code
        role, areas = roles[code]

        def may(perm, code=code):
            return user_may(user=user, perm=f"borgerblikket.{perm}", municipality=code)

        panel = MunicipalityStart(
            code=code,
            name=municipality.name,
            role=str(Membership.Role(role).label),
            areas=areas,
            may={
                "rows": may("view_sheetrow"),
                "add": may("add_sheetrow"),
                "import": may("import_sheetrow"),
                "export": may("export_sheetrow"),
                "switches": may("view_sheet"),
                "quality": may("view_quality"),
                "records": may("view_quality_records"),
                "preview": may("preview_citizen"),
                "rollout": may("view_rollout"),
                "kle": may("view_kleimpactreport"),
                "memberships": may("view_membership"),
                "retention": may("view_retentioncount"),
                "usage": may("view_usage"),
            },
        )
        if panel.may["rows"]:
            rows = SheetRow.objects.filter(municipality=municipality)
            condition = area_condition(
                user=user, municipality_path="municipality", number_path="kle_subject__number"
            )
            if condition is not None:
                rows = rows.filter(condition)
            panel.row_count = rows.count()
            panel.sheet_updated = (
                Sheet.objects.filter(municipality=municipality)
                .values_list("updated_at", flat=True)
                .first()
            )
        if panel.may["quality"]:
            for key, check in quality.CHECKS.items():
                count = sum(quality.check_counts(municipality=municipality, key=key).values())
                if count:
                    panel.checks.append((key, str(check.label), count))
            panel.problem_total = sum(n for _k, _l, n in panel.checks)
        if panel.may["rollout"]:
            panel.position = positions.get(code)
        panels.append(panel)
    return panels
