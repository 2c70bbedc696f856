"""Which municipalities a user may see in the admin (municipal admins: their memberships)."""

from django.db.models import QuerySet

from borgerblikket.models import Membership
from indexes.models import Municipality


def municipality_codes_for_user(*, user) -> frozenset[str] | None:
    """The codes a user may see; ``None`` means all (superusers). Anyone else: their memberships.

    Deny by default: an anonymous or inactive user, or staff without a
    membership, gets the empty set.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return None
    cached = getattr(user, "_borgerblikket_codes", None)
    if cached is None:
        cached = frozenset(
            Membership.objects.filter(user=user).values_list("municipality_id", flat=True)
        )
        user._borgerblikket_codes = cached
    return cached


def municipalities_for_user(*, user) -> QuerySet[Municipality]:
    """The municipalities a user may see, by code."""
    codes = municipality_codes_for_user(user=user)
    municipalities = Municipality.objects.order_by("code")
    return municipalities if codes is None else municipalities.filter(code__in=codes)


def is_municipal_admin(*, user) -> bool:
    """A staff user who is a member of at least one municipality (and no superuser)."""
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        return False
    return not user.is_superuser and bool(municipality_codes_for_user(user=user))
