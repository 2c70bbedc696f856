"""Every fault a simulator injects surfaces: in the data-quality report or in the poll log."""

import datetime

import pytest

from borgerblikket.selectors import quality
from borgerblikket.services.sheets import sheet_row_save
from indexes.feeds.selectors import feed_delivery_quality, feed_rejections
from indexes.models import Case, Municipality
from kle.models import Subject
from simulators import danish
from simulators.feeds import stand_in_of
from tests.feeds.conftest import NOW, poll_until_done

pytestmark = pytest.mark.django_db
ODENSE = "461"


def polled(feed_make, **faults):
    """Poll a FASIT feed with these faults; the feed and what it has delivered by now."""
    feed = feed_make("FASIT", citizens=80, faults=faults)
    poll_until_done(feed)
    sim = stand_in_of(feed)
    return feed, sim.log[: sim.visible_count(NOW)]


def faulted_ids(delivered, fault: str, kind: str = "case") -> set[str]:
    return {c.external_id for c in delivered if c.kind == kind and fault in c.faults}


def test_missing_cpr_is_found_by_the_no_cpr_check(feed_make, now):
    _feed, delivered = polled(feed_make, cpr_missing=0.6)
    municipality = Municipality.objects.get(code=ODENSE)
    for number in set(Case.objects.values_list("kle_subject__number", flat=True)):
        sheet_row_save(
            municipality=municipality,
            kle_subject=Subject.objects.get(number=number),
            values={"show_from": datetime.date(2019, 1, 1)},
            user=None,
        )
    found = set(
        quality.citizen_cases_without_cpr(municipality=municipality).values_list(
            "external_id", flat=True
        )
    )
    assert found and found == faulted_ids(delivered, "cpr_missing")


def test_cases_closed_without_closing_progress_are_found_by_the_not_closed_check(feed_make, now):
    _feed, delivered = polled(feed_make, unclosed=1.0)
    municipality = Municipality.objects.get(code=ODENSE)
    found = set(
        quality.closed_looking_cases_never_closed(municipality=municipality).values_list(
            "external_id", flat=True
        )
    )
    unclosed = {
        c.external_id
        for c in delivered
        if c.kind == "case" and c.payload["source_status_text"] == "Afsluttet"
    }
    assert unclosed and unclosed <= found


CAUGHT_BY_TITLE_CHECK = {"punctuation", "abbreviation", "number_only", "all_caps"}


def test_bad_titles_are_found_by_the_title_checks_or_rejected(feed_make, now):
    _feed, delivered = polled(feed_make, bad_title=0.5)
    municipality = Municipality.objects.get(code=ODENSE)
    caught_titles = {title for rule in CAUGHT_BY_TITLE_CHECK for title in danish.BAD_TITLES[rule]}
    rejected = {r.external_id for r in feed_rejections(municipality=municipality)}
    for kind, check in (
        ("case", quality.cases_breaking_title_rules),
        ("document", quality.documents_breaking_title_rules),
    ):
        bad = {
            c.external_id
            for c in delivered
            if c.kind == kind and "bad_title" in c.faults and c.payload["title"] in caught_titles
        }
        found = set(check(municipality=municipality).values_list("external_id", flat=True))
        # A letter of a case refused for its multi-line title is refused with it.
        assert bad and bad <= found | rejected, kind
        assert found - bad == set(), kind  # and nothing else is flagged
    multiline = {
        c.external_id for c in delivered if "bad_title" in c.faults and "\n" in c.payload["title"]
    }
    rejected = set(
        feed_rejections(municipality=municipality, code="not_single_line").values_list(
            "external_id", flat=True
        )
    )
    assert multiline and multiline <= rejected


@pytest.mark.parametrize(
    ("fault", "codes"),
    [("kle_unknown", {"unknown_kle"}), ("kle_expired", {"kle_expired", "kle_moved"})],
)
def test_wrong_kle_numbers_are_rejected_with_their_reason_in_the_poll_log(
    feed_make, now, fault, codes
):
    feed, delivered = polled(feed_make, **{fault: 0.4})
    municipality = Municipality.objects.get(code=ODENSE)
    quality_of = feed_delivery_quality(municipality=municipality)[feed.source_system_id]
    assert set(quality_of.rejected_by_code) - {"unknown_case"} <= codes
    rejected_cases = {
        r.external_id for r in feed_rejections(municipality=municipality) if r.kind == "case"
    }
    assert rejected_cases == faulted_ids(delivered, fault)
    assert not Case.objects.filter(external_id__in=rejected_cases).exists()


def test_repeats_and_overtaken_updates_are_counted_per_source_system(feed_make, now):
    feed, _delivered = polled(feed_make, duplicate=0.2, out_of_order=0.5)
    report = feed_delivery_quality(municipality=Municipality.objects.get(code=ODENSE))
    mine = report[feed.source_system_id]
    assert mine.unchanged > 0 and mine.stale > 0 and mine.rejected == 0
    assert mine.received == mine.applied + mine.unchanged + mine.stale


@pytest.mark.parametrize("product", ["FASIT", "SBSYS"])
def test_letters_without_party_are_found_by_the_letter_party_check(feed_make, now, product):
    """The fault ``party_missing`` (a letter journalised without its sender or recipient)
    surfaces as ``letter_party``; every other letter arrives with its party, so the check
    finds exactly the faulted letters."""
    feed = feed_make(product, citizens=60, faults={"party_missing": 0.4})
    poll_until_done(feed)
    sim = stand_in_of(feed)
    delivered = sim.log[: sim.visible_count(NOW)]
    municipality = Municipality.objects.get(code=ODENSE)
    found = set(
        quality.letters_without_party(municipality=municipality).values_list(
            "external_id", flat=True
        )
    )
    faulted = faulted_ids(delivered, "party_missing", kind="document")
    assert faulted and found == faulted
    letters_with_party = {
        c.external_id
        for c in delivered
        if c.kind == "document" and (c.payload.get("sender") or c.payload.get("recipient"))
    }
    assert letters_with_party and not letters_with_party & found
