"""Each page does a bounded number of queries, whatever the amount of data."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.borgerblikket import factories as f
from tests.overblik import data as portal_data

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

# Session, user, citizen touch and the page's own reads; the same for 3 or 60 records.
# 12, and the usage counter's one statement (issue 16).
MAX_QUERIES = 13


def _pages(data):
    return {
        "overview": reverse("overblik:overview"),
        "cases": reverse("overblik:cases"),
        "cases-page-2": reverse("overblik:cases") + "?side=2",
        "case": reverse("overblik:case", args=[data.cases[0].pk]),
        "benefits": reverse("overblik:benefits"),
        "services": reverse("overblik:services"),
        "service": reverse("overblik:service", args=[data.service.pk]),
        "access-log": reverse("overblik:access-log"),
    }


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


@pytest.mark.parametrize("size", [(3, 3), (45, 60)], ids=["small", "larger"])
def test_every_page_stays_within_the_query_budget(
    citizen_client, django_assert_max_num_queries, size
):
    cases, payments = size
    data = portal_data.build(cases=cases, payments=payments)
    for url in _pages(data).values():
        with django_assert_max_num_queries(MAX_QUERIES):
            assert citizen_client.get(url).status_code in (200, 404)


def test_the_number_of_queries_does_not_grow_with_the_data(citizen_client):
    data = portal_data.build(cases=3, payments=3)
    small = {name: _count(citizen_client, url) for name, url in _pages(data).items()}
    # Ten times the records for the same citizen.
    for number in range(40):
        f.CaseFactory(
            source_system=data.cases[0].source_system,
            party_cpr=portal_data.KIM.cpr,
            title=f"Ekstra sag {number}",
            kle_subject=data.cases[0].kle_subject,
        )
    for _number in range(50):
        f.PaymentFactory(benefit=data.economic)
    large = {name: _count(citizen_client, url) for name, url in _pages(data).items()}
    assert large == small


def test_counting_the_view_costs_each_page_exactly_one_query(citizen_client, settings):
    """The usage counters (issue 16) add one statement per page, never more."""
    data = portal_data.build(cases=3, payments=3)
    settings.OVERBLIK_USAGE_COUNTING = False
    without = {name: _count(citizen_client, url) for name, url in _pages(data).items()}
    settings.OVERBLIK_USAGE_COUNTING = True
    with_counting = {name: _count(citizen_client, url) for name, url in _pages(data).items()}
    assert with_counting == {name: n + 1 for name, n in without.items()}
