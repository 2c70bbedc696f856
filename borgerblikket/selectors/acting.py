"""Acting for someone else: whose data a citizen may see, and within which areas (issue 15).

The relations come from outside (``borgerblikket.relations``: Digital Fuldmagt and
the CPR relations service). ``scope_for`` turns them into what the visibility rule
needs — ``ALL_AREAS``, a tuple of KLE main groups/groups, or ``None`` (nothing) —
and ``principals_for`` lists whom a citizen may switch to. A service that does not
answer gives nothing (never someone else's data) and says so (``unavailable``).
"""

import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from borgerblikket.relations import (
    ALL,
    RelationsUnavailable,
    children_of,
    powers_held_by,
)

ALL_AREAS = (ALL,)
_AREA_RE = re.compile(r"^[0-9]{2}(\.[0-9]{2})?$")

POWER_OF_ATTORNEY = "fuldmagt"
PARENT = "forælder"


def today() -> dt.date:
    """The day the rule is held against (Copenhagen's date)."""
    return timezone.localdate()


def _clean_scope(scope: tuple[str, ...]) -> tuple[str, ...]:
    """``ALL_AREAS`` if the scope names every area; else its well-formed KLE numbers.

    A malformed entry is dropped (it names nothing), so a scope of nothing but
    nonsense gives no access at all, never every area.
    """
    if ALL in scope:
        return ALL_AREAS
    return tuple(sorted({area for area in scope if _AREA_RE.match(area)}))


@dataclass(frozen=True)
class Principal:
    """Someone the citizen may act for: by power of attorney or as a parent."""

    cpr: str
    name: str
    basis: str  # POWER_OF_ATTORNEY or PARENT
    relation: str  # how the principal calls the holder ("datter"), "" if not known
    scope: tuple[str, ...]  # ALL_AREAS or KLE main groups/groups
    valid_to: dt.date | None


def principals_for(*, cpr: str, on: dt.date | None = None) -> tuple[list[Principal], bool]:
    """Whom ``cpr`` may act for today, by name; and whether a service did not answer."""
    on = on or today()
    unavailable = False
    found: dict[str, Principal] = {}
    try:
        for child in children_of(parent_cpr=cpr):
            if child.cpr != cpr and child.parent_sees(
                today=on, age_limit=settings.OVERBLIK_CHILD_AGE_LIMIT
            ):
                found[child.cpr] = Principal(
                    cpr=child.cpr,
                    name=child.name,
                    basis=PARENT,
                    relation="",
                    scope=ALL_AREAS,
                    valid_to=None,
                )
    except RelationsUnavailable:
        unavailable = True
    try:
        for power in powers_held_by(holder_cpr=cpr):
            scope = _clean_scope(power.scope)
            if power.principal_cpr == cpr or not scope or not power.in_force(today=on):
                continue
            if power.principal_cpr in found:
                earlier = found[power.principal_cpr]
                if earlier.scope == ALL_AREAS or scope == ALL_AREAS:
                    scope = ALL_AREAS
                else:
                    scope = tuple(sorted({*earlier.scope, *scope}))
                found[power.principal_cpr] = Principal(
                    earlier.cpr, earlier.name, earlier.basis, earlier.relation, scope, None
                )
                continue
            found[power.principal_cpr] = Principal(
                cpr=power.principal_cpr,
                name=power.principal_name,
                basis=POWER_OF_ATTORNEY,
                relation=power.relation,
                scope=scope,
                valid_to=power.valid_to,
            )
    except RelationsUnavailable:
        unavailable = True
    principals = sorted(found.values(), key=lambda p: (p.name, p.cpr))
    return principals, unavailable


def principal_for(*, who: str, whose: str, on: dt.date | None = None) -> Principal | None:
    """The relation that lets ``who`` see ``whose`` data today, or ``None``."""
    principals, _unavailable = principals_for(cpr=who, on=on)
    return next((p for p in principals if p.cpr == whose), None)


def scope_for(*, who: str, whose: str, on: dt.date | None = None) -> tuple[str, ...] | None:
    """What ``who`` may see of ``whose`` data: ``ALL_AREAS``, KLE areas, or ``None``."""
    if who == whose:
        return ALL_AREAS
    principal = principal_for(who=who, whose=whose, on=on)
    return principal.scope if principal else None
