"""Fixtures and record builders shared by the index API tests (test_api_*.py, test_inbox*.py).

Import the fixtures a module needs explicitly (``from tests.indexes.api_support import ...``).
"""

import datetime
import itertools

import pytest
from rest_framework.test import APIClient

from indexes.models import Municipality, SourceSystem
from indexes.municipalities import MUNICIPALITIES
from indexes.services.credentials import credential_create
from kle.models import Facet, FacetCategory, Subject

CPR = "0101701234"  # a syntactically valid CPR (1 Jan 1970), not a real person's
OTHER_CPR = "0202802345"
_ids = itertools.count(1)


def kle_minimal() -> None:
    """The few KLE items the API tests deliver against (hand-written, not KL's data)."""
    main, _ = Subject.objects.get_or_create(
        number="15", defaults={"level": "hovedgruppe", "title": "Social service"}
    )
    group, _ = Subject.objects.get_or_create(
        number="15.62", defaults={"level": "gruppe", "title": "Hjælpemidler", "parent": main}
    )
    for number, title, expired in [
        ("15.62.10", "Hjælpemidler i almindelighed", None),
        ("15.62.99", "Udgået emne [udgået]", datetime.date(2010, 1, 1)),
    ]:
        Subject.objects.get_or_create(
            number=number,
            defaults={
                "level": "emne",
                "title": title,
                "parent": group,
                "created_on": datetime.date(1990, 1, 1),
                "expired_on": expired,
            },
        )
    category, _ = FacetCategory.objects.get_or_create(code="G", defaults={"title": "Generelle"})
    Facet.objects.get_or_create(
        code="G01", defaults={"title": "Generelle sager", "category": category}
    )


def municipality_ensure(code: str) -> Municipality:
    """The municipality ``code`` (seeded by a migration; a flushed table is re-seeded)."""
    municipality = Municipality.objects.filter(code=code).first()
    return municipality or Municipality.objects.create(code=code, name=dict(MUNICIPALITIES)[code])


@pytest.fixture
def kle(db):
    kle_minimal()


@pytest.fixture
def source_system(db):
    return SourceSystem.objects.create(
        municipality=municipality_ensure("461"), product="SBSYS", name="SBSYS Odense"
    )


@pytest.fixture
def other_system(db):
    """Another municipality's system (København)."""
    return SourceSystem.objects.create(
        municipality=municipality_ensure("101"), product="SBSYS", name="SBSYS Kbh"
    )


def client_for(source_system) -> APIClient:
    _, key = credential_create(source_system=source_system, label="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def source_system_client(source_system):
    return client_for(source_system)


@pytest.fixture
def other_system_client(other_system):
    return client_for(other_system)


def timestamp(minutes: int = 0) -> str:
    base = datetime.datetime(2024, 5, 1, 10, 0, tzinfo=datetime.UTC)
    return (base + datetime.timedelta(minutes=minutes)).isoformat()


def case_record(external_id: str | None = None, *, minutes: int = 0, cpr: str | None = CPR, **over):
    external_id = external_id or f"case-{next(_ids)}"
    record = {
        "external_id": external_id,
        "source_timestamp": timestamp(minutes),
        "municipality": "461",
        "case_number": f"S-{external_id}",
        "title": "Bevilling af hjælpemiddel",
        "kle_number": "15.62.10",
        "facet": "G01",
        "party": {"cpr": cpr} if cpr else None,
        "created_on": "2024-04-01",
        "progress": [
            {
                "status": "Opstaaet",
                "from": "2024-04-01T09:00:00+02:00",
                "to": "2024-04-10T09:00:00+02:00",
            },
            {"status": "Oplyst", "from": "2024-04-10T09:00:00+02:00"},
        ],
    }
    return record | over


def document_record(
    case_external_id: str, external_id: str | None = None, *, minutes: int = 0, **over
):
    external_id = external_id or f"doc-{next(_ids)}"
    record = {
        "external_id": external_id,
        "source_timestamp": timestamp(minutes),
        "municipality": "461",
        "title": "Afgørelse om hjælpemiddel",
        "letter_date": "2024-04-12",
        "type": "Brev, udgaaende",
        "status": "Endeligt",
        "cases": [{"case_external_id": case_external_id, "role": "Tilakteret"}],
    }
    return record | over


def grant_record(external_id: str | None = None, *, minutes: int = 0, cpr: str = CPR, **over):
    external_id = external_id or f"grant-{next(_ids)}"
    record = {
        "external_id": external_id,
        "source_timestamp": timestamp(minutes),
        "municipality": "461",
        "party": {"cpr": cpr},
        "start_on": "2024-01-01",
        "status": "Aktiv",
        "benefits": [
            {
                "external_id": f"{external_id}-b1",
                "name": "Kontanthjælp",
                "kind": "oekonomisk",
                "kle_number": "15.62.10",
                "start_on": "2024-01-01",
                "status": "Aktiv",
                "payment_plan": {
                    "frequency": "Månedlig",
                    "timing": "Bagud",
                    "payment_day": "Sidste bankdag i måneden",
                    "amount": "12000.00",
                },
            }
        ],
    }
    return record | over


def payment_record(
    grant_external_id: str, external_id: str | None = None, *, minutes: int = 0, **over
):
    external_id = external_id or f"pay-{next(_ids)}"
    record = {
        "external_id": external_id,
        "source_timestamp": timestamp(minutes),
        "municipality": "461",
        "grant_external_id": grant_external_id,
        "benefit_external_id": f"{grant_external_id}-b1",
        "disposal_date": "2024-02-29",
        "period": {"start": "2024-02-01", "end": "2024-02-29"},
        "gross_amount": "12000.00",
        "amount_after_tax": "8400.50",
    }
    return record | over
