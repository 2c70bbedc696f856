"""Demo admin accounts for `make run`: an Odense municipal admin and a national operator.

Their passwords are published (printed by `make run`, listed in the README), so
they exist only where ``settings.OVERBLIK_DEMO_ACCOUNTS`` is on: the local
settings of `make run` and the tests. Production neither installs this app nor turns the
setting (docs/borgerblikket.md).
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from borgerblikket.models import Membership


class DemoAccountsRefused(Exception):
    """Demo accounts were asked for where the settings forbid them (production)."""


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str  # what the account is for, in Danish as the admin says it
    municipality: str | None  # the member municipality's code; None: a national operator


DEMO_ACCOUNTS = (
    DemoAccount("odense-admin", "demo-odense-admin", "kommunal administrator, Odense", "461"),
    DemoAccount("operator", "demo-national-operator", "national driftsoperatør", None),
)


def demo_accounts_ensure() -> tuple[DemoAccount, ...]:
    """Create the demo accounts, or put them back as the README describes them.

    Idempotent: a second start resets the password, the flags and the membership
    (a demo account someone changed or deactivated works again).
    """
    if not settings.OVERBLIK_DEMO_ACCOUNTS:
        raise DemoAccountsRefused(
            "demo accounts have published passwords; these settings do not allow them "
            "(only `make run`'s local settings and the tests do, never production)"
        )
    with transaction.atomic():
        for account in DEMO_ACCOUNTS:
            user, _ = get_user_model().objects.get_or_create(username=account.username)
            user.is_active = True
            user.is_staff = True
            user.is_superuser = account.municipality is None
            user.set_password(account.password)
            user.save()
            memberships = Membership.objects.filter(user=user)
            memberships.exclude(municipality_id=account.municipality).delete()
            if account.municipality:
                Membership.objects.get_or_create(user=user, municipality_id=account.municipality)
    return DEMO_ACCOUNTS
