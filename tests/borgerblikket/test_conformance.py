"""The conformance report of a source system and the product's roll-out approval (issue 18)."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from borgerblikket.selectors.conformance import conformance_report
from indexes.models import InboxBatch, InboxRecord, SourceSystem
from indexes.services.ingestion import record_apply, record_retract
from tests.indexes import api_support as api

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def pilot():
    api.kle_minimal()
    return SourceSystem.objects.create(
        municipality=api.municipality_ensure("461"),
        product="SBSYS",
        name="SBSYS pilot",
        sandbox=True,
    )


def test_report_counts_operations_replays_stale_retractions_and_problems(pilot):
    case = api.case_record("c-1", municipality="461", title="Diverse!")
    record_apply(source_system=pilot, kind="case", payload=case)
    newer = dict(case, source_timestamp="2030-01-01T10:00:00+01:00", title="Afgørelse om hjælp")
    record_apply(source_system=pilot, kind="case", payload=newer)
    record_retract(
        source_system=pilot,
        kind="case",
        external_id="c-1",
        source_timestamp="2030-02-01T10:00:00+01:00",
    )
    record_apply(source_system=pilot, kind="case", payload=api.case_record("c-2", title="Diverse!"))
    batch = InboxBatch.objects.create(source_system=pilot, record_count=3)
    for position, (outcome, problems) in enumerate(
        [
            ("unchanged", []),
            ("stale", []),
            ("rejected", [{"pointer": "/kle_number", "code": "unknown_kle", "message": "x"}]),
        ]
    ):
        InboxRecord.objects.create(
            batch=batch,
            position=position,
            kind="case",
            external_id=f"b{position}",
            payload={},
            outcome=outcome,
            problems=problems,
        )
    report = conformance_report(source_system=pilot)
    assert report.sandbox is True
    assert report.operations["case"] == {"created": 2, "updated": 1, "retracted": 1}
    assert report.kinds_delivered == ["case"]
    assert report.retractions == 1
    assert (report.replays_unchanged, report.stale_rejected_writes, report.rejected) == (1, 1, 1)
    assert report.problems_by_code == {"unknown_kle": 1}
    assert report.problem_rate == pytest.approx(1 / 3, abs=1e-3)
    assert report.kle_rejections == 1
    assert report.live_cases == 1
    assert report.case_titles_breaking_rules == 1


def test_an_operators_approval_carries_to_every_installation_of_the_product(pilot, admin_user):
    other = SourceSystem.objects.create(
        municipality=api.municipality_ensure("101"), product="SBSYS", name="SBSYS Kbh"
    )
    fasit = SourceSystem.objects.create(
        municipality=api.municipality_ensure("101"), product="FASIT", name="FASIT Kbh"
    )
    operator = Client()
    operator.force_login(admin_user)
    url = reverse("borgerblikket_admin:conformance", args=[pilot.pk])
    page = operator.get(url)
    assert page.status_code == 200 and "ikke godkendt" in page.content.decode()
    assert operator.post(url, {"approve": "1", "note": "pilot ok"}).status_code == 302
    carried = operator.get(
        reverse("borgerblikket_admin:conformance", args=[other.pk]), {"format": "json"}
    )
    approval = json.loads(carried.content)["approval"]
    assert approval["product"] == "SBSYS" and approval["note"] == "pilot ok"
    assert approval["based_on"] == str(pilot) and approval["approved_by"] == admin_user.username
    assert conformance_report(source_system=fasit).approval is None
    operator.post(url, {"withdraw": "1"})
    assert conformance_report(source_system=other).approval is None


def test_the_source_system_list_links_each_system_to_its_report(pilot, admin_user):
    operator = Client()
    operator.force_login(admin_user)
    page = operator.get(reverse("admin:indexes_sourcesystem_changelist")).content.decode()
    assert reverse("borgerblikket_admin:conformance", args=[pilot.pk]) in page
