"""Admin lists that show citizens' records log the read, as detail pages do: one DataAccess
row per citizen shown, written in one INSERT, channel "admin_list" (or the quality report's).
Covers the index changelists of cases, grants and payments and the data-quality drill-downs
(page and CSV); the citizen sees the rows on "Hvem har set mine data"."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from indexes.models import Change, DataAccess, Document, GrantedBenefit
from tests.borgerblikket import factories as f
from tests.overblik import data as portal_data
from tests.plugins.portal import oidc_login

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ODENSE, FREDENSBORG = "461", "210"
ANNA, BO, CARL = "0101701111", "0202802222", "0303903333"


@pytest.fixture
def records():
    """Odense: two cases (each with a document and a change-log entry), grants (each with a
    benefit) and payments of Anna, one of Bo; Fredensborg: one of each of Carl's."""
    odense = f.SourceSystemFactory(municipality=f.municipality(ODENSE), name="FASIT Odense")
    fredensborg = f.SourceSystemFactory(municipality=f.municipality(FREDENSBORG), name="SBSYS")
    for system, cprs in ((odense, [ANNA, ANNA, BO]), (fredensborg, [CARL])):
        for cpr in cprs:
            case = f.CaseFactory(source_system=system, party_cpr=cpr)
            f.document_on(case)
            Change.objects.create(
                record_type="case",
                record_id=case.pk,
                version=1,
                action="created",
                source_system=system,
                received_at=case.received_at,
            )
            grant = f.GrantFactory(source_system=system, party_cpr=cpr)
            f.PaymentFactory(benefit=f.GrantedBenefitFactory(grant=grant))


@pytest.fixture
def odense_admin(client):
    client.force_login(f.municipal_admin(ODENSE, username="odense-lists"))
    return client


def _inserts(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith('INSERT INTO "indexes_dataaccess"')]


@pytest.mark.parametrize(
    "name", ["case", "grant", "payment", "grantedbenefit", "document", "change"]
)
def test_a_changelist_logs_one_read_per_citizen_shown_in_one_insert(odense_admin, records, name):
    with CaptureQueriesContext(connection) as queries:
        response = odense_admin.get(reverse(f"admin:indexes_{name}_changelist"))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 3
    assert len(_inserts(queries)) == 1
    rows = DataAccess.objects.order_by("citizen_cpr")
    assert [r.citizen_cpr for r in rows] == [ANNA, BO]  # once each; Carl's were not shown
    kind = {"grantedbenefit": "benefit"}.get(name, name)
    for row in rows:
        assert (row.channel, row.record_kind) == (DataAccess.Channel.ADMIN_LIST, kind)
        assert row.actor_type == DataAccess.Actor.MUNICIPAL_ADMIN
        assert row.municipality_id == ODENSE and row.user.username == "odense-lists"
    # The page shows masked numbers only, whatever it logs.
    assert ANNA not in response.content.decode()


@pytest.mark.parametrize(
    ("name", "model"),
    [("grantedbenefit", GrantedBenefit), ("document", Document), ("change", Change)],
)
def test_opening_a_record_without_its_own_cpr_logs_the_citizen_it_belongs_to(
    odense_admin, records, name, model
):
    """A benefit, a document or a change-log entry is the citizen's though it has no CPR."""
    theirs = model.objects.filter(
        **{
            "grantedbenefit": {"grant__party_cpr": CARL},
            "document": {"case_links__case__party_cpr": CARL},
            "change": {"source_system__municipality_id": FREDENSBORG},
        }[name]
    ).first()
    assert (
        odense_admin.get(reverse(f"admin:indexes_{name}_change", args=[theirs.pk])).status_code
        == 404
    )
    assert not DataAccess.objects.exists()
    own = (
        model.objects.filter(
            **{
                "grantedbenefit": {"grant__party_cpr": BO},
                "document": {"case_links__case__party_cpr": BO},
                "change": {"source_system__municipality_id": ODENSE},
            }[name]
        )
        .order_by("-pk")
        .first()
    )
    response = odense_admin.get(reverse(f"admin:indexes_{name}_change", args=[own.pk]))
    assert response.status_code == 200
    row = DataAccess.objects.get()
    assert row.citizen_cpr == BO
    assert row.channel == DataAccess.Channel.ADMIN_RECORD
    assert (row.actor_type, row.municipality_id) == (DataAccess.Actor.MUNICIPAL_ADMIN, ODENSE)


def test_a_list_that_shows_nobody_logs_nothing(odense_admin, records):
    response = odense_admin.get(reverse("admin:indexes_case_changelist"), {"q": "no-such-case"})
    assert response.status_code == 200 and len(response.context["cl"].result_list) == 0
    assert not DataAccess.objects.exists()


def test_the_operators_list_and_detail_log_as_operator(client, admin_user, records):
    client.force_login(admin_user)
    assert client.get(reverse("admin:indexes_case_changelist")).status_code == 200
    assert set(DataAccess.objects.values_list("citizen_cpr", flat=True)) == {ANNA, BO, CARL}
    assert set(DataAccess.objects.values_list("actor_type", flat=True)) == {"operator"}
    # The detail page still logs its own read (the operator's actor through every subclass).
    case = f.CaseFactory(party_cpr="0404704444")
    response = client.get(reverse("admin:indexes_case_change", args=[case.pk]))
    assert response.status_code == 200
    detail = DataAccess.objects.get(citizen_cpr="0404704444")
    assert detail.actor_type == "operator" and detail.channel == DataAccess.Channel.ADMIN_RECORD


def _drilldown_world():
    system = f.SourceSystemFactory(municipality=f.municipality(ODENSE), name="FASIT Odense")
    no_caseworker = [
        f.CaseFactory(source_system=system, party_cpr=cpr, primary_caseworker="")
        for cpr in (ANNA, ANNA, BO)
    ]
    shouting = f.CaseFactory(source_system=system, party_cpr=CARL)
    f.document_on(shouting, title="AFGØRELSE OM HJÆLP TIL FORSØRGELSE")
    return no_caseworker


def test_a_quality_drilldown_page_logs_the_citizens_on_it(odense_admin):
    _drilldown_world()
    url = reverse("borgerblikket_admin:quality_check", args=[ODENSE, "no_caseworker"])
    with CaptureQueriesContext(connection) as queries:
        response = odense_admin.get(url)
    assert response.status_code == 200 and len(response.context["rows"]) == 3
    assert len(_inserts(queries)) == 1
    rows = DataAccess.objects.all()
    assert sorted(r.citizen_cpr for r in rows) == [ANNA, BO]
    assert {r.channel for r in rows} == {DataAccess.Channel.QUALITY_REPORT}
    assert {r.municipality_id for r in rows} == {ODENSE}


def test_a_quality_drilldown_csv_logs_every_citizen_in_the_file(odense_admin):
    _drilldown_world()
    url = reverse("borgerblikket_admin:quality_check", args=[ODENSE, "no_caseworker"])
    response = odense_admin.get(url, {"format": "csv"})
    content = b"".join(response.streaming_content).decode()
    assert content.count("010170-****") == 2 and ANNA not in content
    rows = DataAccess.objects.all()
    assert sorted(r.citizen_cpr for r in rows) == [ANNA, BO]
    assert {r.channel for r in rows} == {DataAccess.Channel.QUALITY_DOWNLOAD}


def test_a_document_drilldown_logs_the_citizens_of_the_documents_cases(odense_admin):
    _drilldown_world()
    url = reverse("borgerblikket_admin:quality_check", args=[ODENSE, "document_title"])
    response = odense_admin.get(url)
    assert response.status_code == 200 and len(response.context["rows"]) == 1
    assert list(DataAccess.objects.values_list("citizen_cpr", flat=True)) == [CARL]
    csv = odense_admin.get(url, {"format": "csv"})
    assert "AFGØRELSE OM HJÆLP" in b"".join(csv.streaming_content).decode()
    downloads = DataAccess.objects.filter(channel=DataAccess.Channel.QUALITY_DOWNLOAD)
    assert list(downloads.values_list("citizen_cpr", flat=True)) == [CARL]


def test_the_citizen_sees_the_list_read_under_hvem_har_set_mine_data(oidc_settings):
    portal_data.build()
    admin = Client()
    admin.force_login(f.municipal_admin(ODENSE, username="odense-seen"))
    assert admin.get(reverse("admin:indexes_case_changelist")).status_code == 200
    kim = Client()
    oidc_login(kim, sub="demo-kim")
    body = kim.get(reverse("overblik:access-log")).content.decode()
    # Issue 11.12: a role and the municipality, what and where in words; no account name.
    # Kim's cases on the list: two areas (the hidden case's is not named).
    assert (
        '<span data-testid="access-who">En medarbejder i Odense Kommune</span> '
        '<span data-testid="access-what">så dine sager om Hegnssyn og Hjælp til forsørgelse '
        "(liste over sager)</span>."
    ) in body
    assert "odense-seen" not in body and "admin list" not in body
    assert "administrator" not in body
