"""`manage.py demo_accounts`: an Odense municipal admin and a national operator to try the admin.

`make run` creates them and prints their passwords (listed in the README too);
production has no such command (it does not install the stand-ins), and settings
without OVERBLIK_DEMO_ACCOUNTS refuse to create accounts whose passwords are published.
"""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from borgerblikket.models import Membership
from borgerblikket.selectors.scoping import is_municipal_admin, municipality_codes_for_user
from tests.test_settings import PRODUCTION_ENV, _manage

pytestmark = pytest.mark.django_db

README_ACCOUNTS = {"odense-admin": "demo-odense-admin", "operator": "demo-national-operator"}


def demo_accounts() -> str:
    out = io.StringIO()
    call_command("demo_accounts", stdout=out)
    return out.getvalue()


def logged_in(username: str, password: str) -> Client:
    client = Client()
    response = client.post("/admin/login/", {"username": username, "password": password})
    assert response.status_code == 302, response.content[:2000]
    return client


def test_an_odense_admin_and_a_national_operator_with_the_readmes_passwords():
    output = demo_accounts()

    for username, password in README_ACCOUNTS.items():
        assert username in output and password in output
    admin = logged_in("odense-admin", README_ACCOUNTS["odense-admin"])
    odense = admin.get("/admin/borgerblikket/quality/461/")
    assert odense.status_code == 200
    assert admin.get("/admin/borgerblikket/quality/706/").status_code in (403, 404)
    rollout = admin.get("/admin/borgerblikket/rollout/")  # the own position only
    assert rollout.status_code == 200 and "Fredensborg" not in rollout.content.decode()

    operator = logged_in("operator", README_ACCOUNTS["operator"])
    assert operator.get("/admin/borgerblikket/rollout/").status_code == 200

    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="odense-admin")
    assert is_municipal_admin(user=user) and municipality_codes_for_user(user=user) == {"461"}
    assert get_user_model().objects.get(username="operator").is_superuser


def test_a_second_start_resets_the_accounts_instead_of_adding_more():
    from django.contrib.auth import get_user_model

    demo_accounts()
    user = get_user_model().objects.get(username="odense-admin")
    user.set_password("changed-by-someone")
    user.is_active = False
    user.save()

    demo_accounts()

    assert get_user_model().objects.filter(username__in=README_ACCOUNTS).count() == 2
    assert Membership.objects.filter(user__username="odense-admin").count() == 1
    logged_in("odense-admin", README_ACCOUNTS["odense-admin"])


def test_production_has_no_demo_accounts_command():
    """Production settings do not install the stand-ins, whose command this is."""
    result = _manage("demo_accounts", env=PRODUCTION_ENV)
    assert result.returncode != 0
    assert "Unknown command: 'demo_accounts'" in result.stderr
    assert "demo-odense-admin" not in result.stdout


def test_the_command_refuses_where_the_setting_is_off(settings):
    settings.OVERBLIK_DEMO_ACCOUNTS = False
    with pytest.raises(CommandError, match="demo accounts"):
        demo_accounts()
