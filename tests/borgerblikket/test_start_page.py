"""The admin's start page for a municipal user: their municipality's sheet, data quality,
preview and roll-out position, as far as their role reaches; nothing of another's."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from borgerblikket.models import Membership
from borgerblikket.roles import OPERATOR_GROUP
from borgerblikket.services.sheets import sheet_row_save
from tests.borgerblikket import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ODENSE, FREDENSBORG = "461", "210"


def _client(code, role, username, areas=()):
    user = f.municipal_admin(code, username=username)
    membership = Membership.objects.get(user=user)
    membership.role = role
    membership.save()
    membership.areas.set([f.kle_subject(a) for a in areas])
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def odense():
    system = f.SourceSystemFactory(municipality=f.municipality(ODENSE), name="FASIT Odense")
    for number in ("32.24.04", "15.17.06"):
        sheet_row_save(
            municipality=f.municipality(ODENSE),
            kle_subject=f.kle_subject(number),
            values={"show_from": dt.date(2020, 1, 1)},
            user=None,
        )
    # An open case without a caseworker: one finding of the data-quality checks.
    f.CaseFactory(source_system=system, primary_caseworker="", title="Afgørelse om hjælp")
    other = f.SourceSystemFactory(municipality=f.municipality(FREDENSBORG))
    f.CaseFactory(source_system=other, primary_caseworker="")
    return system


def test_a_municipal_admin_starts_on_their_municipalitys_work(odense):
    body = _client(ODENSE, "admin", "odense-admin").get(reverse("admin:index"))
    assert body.status_code == 200
    html = body.content.decode()
    assert 'id="start-461"' in html and "Odense Kommune" in html
    assert "2 KLE-numre vises for borgerne." in html
    assert reverse("borgerblikket_admin:quality", args=[ODENSE]) in html
    assert reverse("borgerblikket_admin:quality_check", args=[ODENSE, "no_caseworker"]) in html
    assert reverse("borgerblikket_admin:preview") in html
    assert 'id="start-461-rollout"' in html
    assert "Fredensborg" not in html and 'id="start-210"' not in html
    assert "Medlemskaber af kommunen" not in html  # the lead admin's


def test_each_role_sees_on_the_start_page_only_what_it_may_open(odense):
    lead = _client(ODENSE, "lead", "odense-lead").get(reverse("admin:index")).content.decode()
    assert "Medlemskaber af kommunen" in lead
    manager = _client(ODENSE, "manager", "odense-manager").get(reverse("admin:index"))
    html = manager.content.decode()
    assert 'id="start-461-quality"' in html and 'id="start-461-rollout"' in html
    assert reverse("borgerblikket_admin:quality_check", args=[ODENSE, "no_caseworker"]) not in html
    assert 'id="start-461-preview"' not in html and "Importér ark" not in html
    area = _client(ODENSE, "area", "odense-area", areas=["15"]).get(reverse("admin:index"))
    html = area.content.decode()
    assert "1 KLE-nummer vises for borgerne." in html and "(områder 15)" in html
    assert 'id="start-461-quality"' not in html and 'id="start-461-rollout"' not in html


def test_operators_and_staff_without_a_role_keep_the_list_of_pages(odense, admin_user):
    operator = f.UserFactory(username="operator-x")
    operator.groups.add(Group.objects.get(name=OPERATOR_GROUP))
    for user in (operator, admin_user, f.UserFactory(username="nobody")):
        client = Client()
        client.force_login(user)
        html = client.get(reverse("admin:index")).content.decode()
        assert 'id="start-page"' not in html
