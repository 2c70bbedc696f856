"""Who may do what, and where, in the admin (docs/roles.md).

- A superuser may do everything everywhere.
- A national operator (staff in ``OPERATOR_GROUP``, no superuser) may do what the group's
  permissions say, in every municipality (Django's own permission check).
- Anyone else acts through memberships: in each municipality they are a member of, what
  the role's group permits; an area admin only on the sheet rows of their KLE areas.

Deny by default: an anonymous or inactive user, or staff without a membership, may nothing.
"""

from django.contrib.auth.models import Group
from django.db.models import Q, QuerySet

from borgerblikket.models import Membership
from borgerblikket.roles import OPERATOR_GROUP, ROLE_GROUPS
from indexes.models import Municipality


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_operator(*, user) -> bool:
    """A superuser, or a staff user in the national operators' group."""
    if not _active(user) or not user.is_staff:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_borgerblikket_operator", None)
    if cached is None:
        cached = user.groups.filter(name=OPERATOR_GROUP).exists()
        user._borgerblikket_operator = cached
    return cached


def _role_permissions() -> dict[str, frozenset[str]]:
    """Each municipal role's permissions, as its group holds them ("app.codename")."""
    groups = Group.objects.filter(name__in=ROLE_GROUPS.values()).prefetch_related(
        "permissions__content_type"
    )
    by_name = {
        g.name: frozenset(f"{p.content_type.app_label}.{p.codename}" for p in g.permissions.all())
        for g in groups
    }
    return {role: by_name.get(name, frozenset()) for role, name in ROLE_GROUPS.items()}


def _memberships(user) -> list[tuple[str, str, tuple[str, ...], frozenset[str]]]:
    """(municipality code, role, area numbers, the role's permissions) per membership; cached
    on the user object for the request."""
    cached = getattr(user, "_borgerblikket_memberships", None)
    if cached is None:
        permissions = _role_permissions()
        cached = [
            (
                m.municipality_id,
                m.role,
                tuple(sorted(s.number for s in m.areas.all())),
                permissions.get(m.role, frozenset()),
            )
            for m in Membership.objects.filter(user=user).prefetch_related("areas")
        ]
        user._borgerblikket_memberships = cached
    return cached


def municipality_codes_for_user(*, user, perm: str | None = None) -> frozenset[str] | None:
    """The codes of the municipalities where the user may ``perm`` ("app.codename"), or where
    they are a member at all without one; ``None`` means every municipality."""
    if not _active(user):
        return frozenset()
    if user.is_superuser:
        return None
    if is_operator(user=user):
        return None if perm is None or user.has_perm(perm) else frozenset()
    return frozenset(
        code for code, _role, _areas, perms in _memberships(user) if perm is None or perm in perms
    )


def municipalities_for_user(*, user, perm: str | None = None) -> QuerySet[Municipality]:
    """The municipalities where the user may ``perm`` (or is a member), by code."""
    codes = municipality_codes_for_user(user=user, perm=perm)
    municipalities = Municipality.objects.order_by("code")
    return municipalities if codes is None else municipalities.filter(code__in=codes)


def user_may(*, user, perm: str, municipality: str | None = None) -> bool:
    """May the user ``perm`` in this municipality (by code), or in any when none is named?"""
    codes = municipality_codes_for_user(user=user, perm=perm)
    if codes is None:
        return True
    return municipality in codes if municipality is not None else bool(codes)


def is_municipal_admin(*, user) -> bool:
    """A staff user who is a member of at least one municipality (no superuser, no operator)."""
    if not (_active(user) and user.is_staff) or is_operator(user=user):
        return False
    return bool(municipality_codes_for_user(user=user))


def user_roles(*, user) -> list[tuple[str, str, tuple[str, ...]]]:
    """(municipality code, role, area numbers) of each of the user's memberships."""
    if not _active(user):
        return []
    return [(code, role, areas) for code, role, areas, _perms in _memberships(user)]


def areas_for_user(*, user, municipality: str) -> tuple[str, ...] | None:
    """The KLE areas the user's rows are limited to in the municipality; ``None``: no limit."""
    if not _active(user) or user.is_superuser or is_operator(user=user):
        return None
    for code, role, areas, _perms in _memberships(user):
        if code == municipality and role == Membership.Role.AREA:
            return areas
    return None


def kle_number_in_areas(*, number: str, areas: tuple[str, ...] | None) -> bool:
    """Is a KLE number ("32.24.04") inside one of the areas ("32", "32.24")?"""
    if areas is None:
        return True
    return any(number == area or number.startswith(f"{area}.") for area in areas)


def area_condition(*, user, municipality_path: str, number_path: str) -> Q | None:
    """The rows an area admin may see (their municipality and areas; every row of the
    municipalities where they have another role); ``None`` when no limit applies."""
    if not _active(user) or user.is_superuser or is_operator(user=user):
        return None
    memberships = _memberships(user)
    if not any(role == Membership.Role.AREA for _c, role, _a, _p in memberships):
        return None
    condition = Q(pk__in=[])
    for code, role, areas, _perms in memberships:
        own = Q(**{municipality_path: code})
        if role == Membership.Role.AREA:
            inside = Q(pk__in=[])
            for area in areas:
                inside |= Q(**{number_path: area}) | Q(**{f"{number_path}__startswith": f"{area}."})
            own &= inside
        condition |= own
    return condition
