"""Grants and benefits naming a case by number, also of another source system (issue 11.1).

A payment system's grant quotes the jobcentre's case number (KMD Ydelse → FASIT).
``related_case`` must follow in either delivery order, from concurrent deliveries,
and when the named case is renumbered, retracted or held by several systems
(``indexes.services.references``).
"""

import threading

import pytest
from django.db import connection

from indexes.models import Grant, GrantedBenefit
from indexes.selectors import record_get, record_to_payload
from indexes.services.ingestion import record_apply, record_retract
from tests.indexes.factories import (
    SourceSystemFactory,
    benefit_payload,
    case_payload,
    grant_payload,
    kle_ensure,
)

pytestmark = [pytest.mark.django_db]

T2 = "2024-05-02T10:00:00+02:00"
T3 = "2024-05-03T10:00:00+02:00"
NUMBER = "2024-9000006"


@pytest.fixture
def systems():
    kle_ensure()
    fasit = SourceSystemFactory(name="FASIT", product="FASIT")
    kmd = SourceSystemFactory(name="KMD Ydelse", product="Andet")
    return fasit, kmd


def deliver(system, kind, payload):
    return record_apply(source_system=system, kind=kind, payload=payload)


def named_by_number(number=NUMBER, **over):
    return grant_payload(
        related_case_number=number,
        benefits=[benefit_payload(related_case_number=number)],
        **over,
    )


def resolved():
    """(grant's case external id, benefit's case external id)."""
    grant = Grant.objects.select_related("related_case").get()
    benefit = GrantedBenefit.objects.select_related("related_case").get()
    return (
        grant.related_case.external_id if grant.related_case else None,
        benefit.related_case.external_id if benefit.related_case else None,
    )


@pytest.mark.parametrize("case_first", [True, False], ids=["case-first", "grant-first"])
def test_a_grant_names_another_systems_case_by_number_in_either_order(systems, case_first):
    fasit, kmd = systems
    steps = [
        lambda: deliver(fasit, "case", case_payload(external_id="fasit-6", case_number=NUMBER)),
        lambda: deliver(kmd, "grant", named_by_number()),
    ]
    for step in steps if case_first else reversed(steps):
        step()
    assert resolved() == ("fasit-6", "fasit-6")


def test_the_number_is_kept_as_delivered_and_read_back(systems):
    _, kmd = systems
    outcome = deliver(kmd, "grant", named_by_number())
    instance = record_get(source_system=kmd, kind="grant", external_id=outcome.external_id)
    payload = record_to_payload(kind="grant", instance=instance)
    assert payload["related_case_number"] == NUMBER
    assert payload["benefits"][0]["related_case_number"] == NUMBER
    assert resolved() == (None, None)  # not arrived yet: nothing to point at


def test_the_own_systems_case_comes_first(systems):
    fasit, kmd = systems
    deliver(fasit, "case", case_payload(external_id="fasit-6", case_number=NUMBER))
    deliver(kmd, "case", case_payload(external_id="kmd-6", case_number=NUMBER))
    deliver(kmd, "grant", named_by_number())
    assert resolved() == ("kmd-6", "kmd-6")


def test_two_other_systems_with_the_number_are_ambiguous_until_one_retracts(systems):
    fasit, kmd = systems
    sbsys = SourceSystemFactory(name="SBSYS")
    deliver(fasit, "case", case_payload(external_id="fasit-6", case_number=NUMBER))
    deliver(sbsys, "case", case_payload(external_id="sbsys-6", case_number=NUMBER))
    deliver(kmd, "grant", named_by_number())
    assert resolved() == (None, None)
    record_retract(source_system=sbsys, kind="case", external_id="sbsys-6", source_timestamp=T2)
    assert resolved() == ("fasit-6", "fasit-6")
    # The only holder retracted: nothing is named any more.
    record_retract(source_system=fasit, kind="case", external_id="fasit-6", source_timestamp=T2)
    assert resolved() == (None, None)


def test_another_municipalitys_case_is_never_named(systems):
    _, kmd = systems
    elsewhere = SourceSystemFactory(municipality__code="101")
    deliver(elsewhere, "case", case_payload(municipality="101", case_number=NUMBER))
    deliver(kmd, "grant", named_by_number())
    assert resolved() == (None, None)


def test_a_renumbered_case_is_followed(systems):
    fasit, kmd = systems
    case = case_payload(external_id="fasit-6", case_number=NUMBER)
    deliver(fasit, "case", case)
    deliver(kmd, "grant", named_by_number())
    assert resolved() == ("fasit-6", "fasit-6")
    deliver(fasit, "case", case | {"case_number": "2024-1", "source_timestamp": T2})
    assert resolved() == (None, None)
    deliver(fasit, "case", case | {"source_timestamp": T3})
    assert resolved() == ("fasit-6", "fasit-6")


def test_an_external_id_and_a_number_that_disagree_name_nothing(systems):
    _, kmd = systems
    deliver(kmd, "case", case_payload(external_id="kmd-1", case_number="2024-1"))
    deliver(kmd, "grant", grant_payload(related_case="kmd-1", related_case_number=NUMBER))
    assert Grant.objects.get().related_case_id is None
    deliver(kmd, "case", case_payload(external_id="kmd-2", case_number="2024-2"))
    deliver(
        kmd,
        "grant",
        grant_payload(external_id="g-2", related_case="kmd-2", related_case_number="2024-2"),
    )
    assert Grant.objects.get(external_id="g-2").related_case.external_id == "kmd-2"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_the_case_and_the_grant_find_each_other(systems):
    """Both write before either commits, so neither sees the other in its transaction;
    the resolution after commit (under an advisory lock) links them."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    fasit, kmd = systems
    both_written = threading.Barrier(2, timeout=20)
    errors = []

    def run(system, kind, payload):
        from django.db import connections, transaction

        try:
            with transaction.atomic():
                deliver(system, kind, payload)
                both_written.wait()
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(
            target=run,
            args=(fasit, "case", case_payload(external_id="fasit-6", case_number=NUMBER)),
        ),
        threading.Thread(target=run, args=(kmd, "grant", named_by_number())),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert resolved() == ("fasit-6", "fasit-6")
