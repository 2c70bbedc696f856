"""Case numbers are unique per source system among live cases (issue 12.4).

Before: unique per municipality across all systems, so a PUT with a number another
system of the municipality held was answered 422 ``case_number_taken`` — an oracle
for the neighbours' case numbers, and a way to register them first — and a
retracted case kept its number for ever.
"""

# Fixtures are imported from api_support; pytest injects them by parameter name.
# ruff: noqa: F811

import json

import pytest
from django.db import IntegrityError, transaction

from indexes.models import Case, SourceSystem
from indexes.services.errors import RecordRejected
from indexes.services.ingestion import record_apply, record_retract
from tests.indexes.api_support import (
    case_record,
    client_for,
    kle,  # noqa: F401
    municipality_ensure,
    source_system,  # noqa: F401
    source_system_client,  # noqa: F401
    timestamp,
)
from tests.indexes.factories import CaseFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kle")]


@pytest.fixture
def neighbour(db):
    """Another source system of the same municipality (Odense)."""
    return SourceSystem.objects.create(
        municipality=municipality_ensure("461"), product="FASIT", name="FASIT Odense"
    )


def put(client, path, record):
    return client.put(path, data=json.dumps(record), content_type="application/json")


def test_a_neighbours_case_number_is_no_oracle_and_cannot_be_squatted(
    source_system_client, neighbour
):
    theirs = put(client_for(neighbour), "/api/v1/cases/f-1", case_record("f-1", case_number="N-1"))
    assert theirs.status_code == 201, theirs.content
    # The same number from another system of the municipality: accepted like any other,
    # and the answer says nothing about the neighbour's case.
    ours = put(source_system_client, "/api/v1/cases/s-1", case_record("s-1", case_number="N-1"))
    assert ours.status_code == 201, ours.content
    assert "case_number" not in ours.content.decode()
    # A number never used anywhere is answered the same way: nothing to tell them apart.
    fresh = put(source_system_client, "/api/v1/cases/s-2", case_record("s-2", case_number="N-9"))
    assert fresh.status_code == ours.status_code
    assert fresh.json().keys() == ours.json().keys()
    assert set(Case.objects.filter(case_number="N-1").values_list("external_id", flat=True)) == {
        "f-1",
        "s-1",
    }
    # Registering first did not take the number from the system that owns it.
    later = put(client_for(neighbour), "/api/v1/cases/f-2", case_record("f-2", case_number="N-9"))
    assert later.status_code == 201, later.content


def test_a_systems_own_live_case_number_is_still_refused(source_system_client):
    assert (
        put(
            source_system_client, "/api/v1/cases/a", case_record("a", case_number="N-2")
        ).status_code
        == 201
    )
    response = put(source_system_client, "/api/v1/cases/b", case_record("b", case_number="N-2"))
    assert response.status_code == 422
    assert [(p["pointer"], p["code"]) for p in response.json()["errors"]] == [
        ("/case_number", "case_number_taken")
    ]


def test_a_retracted_cases_number_can_be_used_again(source_system):
    record_apply(
        source_system=source_system, kind="case", payload=case_record("old", case_number="N-3")
    )
    record_retract(
        source_system=source_system, kind="case", external_id="old", source_timestamp=timestamp(5)
    )
    new = record_apply(
        source_system=source_system,
        kind="case",
        payload=case_record("new", case_number="N-3", minutes=6),
    )
    assert new.outcome == "created"
    # The retracted case cannot come back with the number the live case now holds.
    with pytest.raises(RecordRejected) as rejected:
        record_apply(
            source_system=source_system,
            kind="case",
            payload=case_record("old", case_number="N-3", minutes=10),
        )
    assert [(p.pointer, p.code) for p in rejected.value.problems] == [
        ("/case_number", "case_number_taken")
    ]


def test_the_database_holds_the_rule(source_system, neighbour):
    CaseFactory(source_system=neighbour, case_number="N-4")
    CaseFactory(source_system=source_system, case_number="N-4")  # another system: allowed
    retracted = CaseFactory(source_system=source_system, case_number="N-5")
    Case.objects.filter(pk=retracted.pk).update(retracted_at=retracted.received_at)
    CaseFactory(source_system=source_system, case_number="N-5")  # a retracted one's number
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseFactory(source_system=source_system, case_number="N-4")
