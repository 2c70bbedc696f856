"""Every fault kind a simulator injects is found in Borgerblikket's data-quality report
(the admin page), after a real poll of the simulated feed (docs/sources.md)."""

import csv
import datetime
import io

import pytest
from django.urls import reverse

from borgerblikket.selectors import quality
from borgerblikket.services.sheets import sheet_row_save
from indexes.models import Case, Document, Municipality
from kle.models import Subject
from simulators import danish
from simulators.feeds import stand_in_of
from tests.borgerblikket import factories as bf
from tests.feeds.conftest import NOW, poll_until_done

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
ODENSE = "461"
RATE = 0.25
FAULTS = ("kle_unknown", "kle_expired", "cpr_missing", "duplicate", "out_of_order", "unclosed")


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))[1:]


def test_each_fault_kind_is_found_in_the_report(client, feed_make, now):
    feed = feed_make(
        "FASIT",
        citizens=80,
        faults=dict.fromkeys(FAULTS, RATE) | {"cpr_missing": 0.6, "bad_title": 0.5},
    )
    poll_until_done(feed)
    sim = stand_in_of(feed)
    delivered = sim.log[: sim.visible_count(NOW)]
    municipality = Municipality.objects.get(code=ODENSE)
    # Show every indexed area, so cases without a CPR are citizen cases missing one.
    for number in set(Case.objects.values_list("kle_subject__number", flat=True)):
        sheet_row_save(
            municipality=municipality,
            kle_subject=Subject.objects.get(number=number),
            values={"show_from": datetime.date(2019, 1, 1)},
            user=None,
        )

    client.force_login(bf.municipal_admin(ODENSE))
    report = client.get(reverse("borgerblikket_admin:quality", args=[ODENSE]))
    assert report.status_code == 200
    system = feed.source_system
    column = [s.pk for s in report.context["systems"]].index(system.pk)

    def counts(rows_key: str) -> dict[str, int]:
        return {row["key"]: row["cells"][column][0] for row in report.context[rows_key]}

    checks, rejected, deliveries = (
        counts("check_rows"),
        counts("rejection_rows"),
        counts("delivery_rows"),
    )

    def faulted(fault: str, *, kind: str | None = None) -> set[str]:
        return {
            c.external_id
            for c in delivered
            if fault in c.faults and (kind is None or c.kind == kind)
        }

    def rejected_ids(code: str) -> set[str]:
        url = reverse("borgerblikket_admin:quality_rejections", args=[ODENSE, code])
        response = client.get(url, {"source_system": system.pk, "format": "csv"})
        return {row[3] for row in csv_rows(response)}

    # Rejected by ingestion: in "Afviste leverancer", with drill-down to the records.
    assert rejected["unknown_kle"] > 0
    assert faulted("kle_unknown", kind="case") <= rejected_ids("unknown_kle")
    assert rejected.get("kle_expired", 0) + rejected.get("kle_moved", 0) > 0
    assert faulted("kle_expired", kind="case") <= rejected_ids("kle_expired") | rejected_ids(
        "kle_moved"
    )
    multiline = {
        c.external_id for c in delivered if "bad_title" in c.faults and "\n" in c.payload["title"]
    }
    assert multiline and rejected["not_single_line"] > 0
    assert multiline <= rejected_ids("all")

    # Repeated and overtaken deliveries: counted per source system from the poll log.
    assert deliveries["unchanged"] > 0 and deliveries["stale"] > 0

    # Accepted faults: found by the checks.
    assert checks["no_cpr"] > 0 and checks["not_closed"] > 0
    indexed = set(Case.objects.values_list("external_id", flat=True))
    no_cpr = set(
        quality.citizen_cases_without_cpr(municipality=municipality).values_list(
            "external_id", flat=True
        )
    )
    assert faulted("cpr_missing", kind="case") & indexed <= no_cpr
    assert checks["case_title"] > 0

    # Titles without a lead word: found by the new check, and nothing else is.
    no_lead = set(danish.BAD_TITLES["no_lead_word"])
    lacking = set(
        quality.cases_without_lead_word(municipality=municipality).values_list("title", flat=True)
    ) | set(
        quality.documents_without_lead_word(municipality=municipality).values_list(
            "title", flat=True
        )
    )
    assert checks["case_lead_word"] + checks["document_lead_word"] > 0
    assert lacking & no_lead
    # Good simulated titles all start with a lead word of the default list; a title the
    # check flags is a faulty one (no lead word, only a number, or in capitals).
    flagged_ok = no_lead | set(danish.BAD_TITLES["number_only"]) | {"BREV TIL BORGER"}
    assert lacking <= flagged_ok
    indexed_no_lead = {
        c.external_id
        for c in delivered
        if c.kind == "case" and c.payload["title"] in no_lead and c.external_id in indexed
    }
    assert indexed_no_lead <= set(
        quality.cases_without_lead_word(municipality=municipality).values_list(
            "external_id", flat=True
        )
    )

    # Titles in capitals ("AFSLAG PÅ ANSØGNING"): found by the title checks, named in their
    # drill-down as such, with the CPR column masked.
    capitals = set(danish.BAD_TITLES["all_caps"])
    found_any = False
    for kind, model, key, selector, title_column in (
        ("case", Case, "case_title", quality.cases_breaking_title_rules, 1),
        ("document", Document, "document_title", quality.documents_breaking_title_rules, 0),
    ):
        stored = set(model.objects.filter(title__in=capitals).values_list("external_id", flat=True))
        delivered_capitals = {
            c.external_id for c in delivered if c.kind == kind and c.payload["title"] in capitals
        }
        assert stored <= delivered_capitals, kind  # no good title is stored in capitals
        assert stored <= set(
            selector(municipality=municipality).values_list("external_id", flat=True)
        ), kind
        url = reverse("borgerblikket_admin:quality_check", args=[ODENSE, key])
        drilldown = csv_rows(client.get(url, {"source_system": system.pk, "format": "csv"}))
        in_capitals = [row for row in drilldown if row[title_column] in capitals]
        assert len(in_capitals) == len(stored), kind
        for row in in_capitals:
            assert "kun store bogstaver" in row[-1]
            if kind == "case":
                assert row[2] == "" or row[2].endswith("-****")  # CPR masked
        found_any = found_any or bool(stored)
    assert found_any, "the poll stored no title in capitals"
    assert checks["case_title"] + checks["document_title"] > 0
