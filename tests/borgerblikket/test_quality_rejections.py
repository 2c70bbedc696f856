"""The data-quality report's "Afviste leverancer": deliveries the poll rejected, per
problem code and source system, scoped to the admin's municipalities like every check."""

import csv
import io

import pytest
from django.db import connection
from django.urls import reverse

from borgerblikket.selectors import quality
from indexes.models import FeedPoll, FeedRejection, SourceFeed
from tests.borgerblikket import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

CPR = "0101701234"


def feed_of(system) -> SourceFeed:
    return SourceFeed.objects.create(source_system=system, adapter="fasit_json")


def reject(feed, poll, *, code: str, external_id: str, kind: str = "case") -> FeedRejection:
    return FeedRejection.objects.create(
        poll=poll,
        feed=feed,
        kind=kind,
        external_id=external_id,
        code=code,
        problems=[{"pointer": "/kle_number", "code": code, "message": f"besked om {code}"}],
        source_timestamp="2026-11-01T10:00:00+01:00",
    )


@pytest.fixture
def rejections():
    odense, syddjurs = f.municipality("461"), f.municipality("706")
    fasit = feed_of(f.SourceSystemFactory(municipality=odense, name="FASIT"))
    sbsys = feed_of(f.SourceSystemFactory(municipality=odense, name="SBSYS"))
    other = feed_of(f.SourceSystemFactory(municipality=syddjurs, name="Acadre"))
    for feed, codes in (
        (fasit, ["unknown_kle"] * 3 + ["kle_expired", "not_single_line"]),
        (sbsys, ["unknown_kle", "unknown_case", "unknown_case"]),
        (other, ["unknown_kle", "kle_moved", "kle_moved"]),
    ):
        poll = FeedPoll.objects.create(
            feed=feed, status=FeedPoll.Status.SUCCEEDED, rejected=len(codes)
        )
        for i, code in enumerate(codes):
            reject(feed, poll, code=code, external_id=f"{feed.source_system.name}-{i}")
    # A source system that put a CPR number in its external id.
    reject(fasit, fasit.polls.get(), code="unknown_kle", external_id=f"sag-{CPR}")
    reject(other, other.polls.get(), code="kle_moved", external_id=f"sag-{CPR}")
    return odense, syddjurs


def sql_rejection_counts(code: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT s.id, r.code, count(*) FROM indexes_feedrejection r
               JOIN indexes_sourcefeed f ON f.id = r.feed_id
               JOIN indexes_sourcesystem s ON s.id = f.source_system_id
               WHERE s.municipality_id = %s GROUP BY 1, 2""",
            [code],
        )
        return {(system, c): n for system, c, n in cursor.fetchall()}


def test_rejection_counts_equal_direct_sql(rejections):
    odense, syddjurs = rejections
    for municipality in (odense, syddjurs):
        expected = sql_rejection_counts(municipality.code)
        assert expected and quality.rejection_counts(municipality=municipality) == expected


def test_report_shows_own_rejections_per_code_and_system(client, rejections):
    client.force_login(f.municipal_admin("461"))
    response = client.get(reverse("borgerblikket_admin:quality", args=["461"]))
    assert response.status_code == 200
    rows = {row["key"]: row for row in response.context["rejection_rows"]}
    # kle_moved is only Syddjurs' (another municipality's) code.
    assert set(rows) == {"unknown_kle", "kle_expired", "not_single_line", "unknown_case"}
    cells = {s.name: n for n, s in rows["unknown_kle"]["cells"]}
    assert cells == {"FASIT": 4, "SBSYS": 1} and rows["unknown_kle"]["total"] == 5
    body = response.content.decode()
    assert "Afviste leverancer" in body and "Acadre" not in body


def test_drilldown_and_csv_list_rejections_with_cpr_masked(client, rejections):
    client.force_login(f.municipal_admin("461"))
    fasit = SourceFeed.objects.get(source_system__name="FASIT").source_system
    url = reverse("borgerblikket_admin:quality_rejections", args=["461", "unknown_kle"])
    page = client.get(url, {"source_system": fasit.pk})
    assert page.status_code == 200
    assert page.context["page"].paginator.count == 4
    body = page.content.decode()
    assert CPR not in body and "sag-010170-****" in body
    assert "besked om unknown_kle" in body and "Ukendt KLE-nummer" in body
    csv_response = client.get(url, {"source_system": fasit.pk, "format": "csv"})
    text = b"".join(csv_response.streaming_content).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][:4] == ["Modtaget", "Fagsystem", "Posttype", "Eksternt id"]
    assert len(lines) == 1 + 4
    assert {line[5] for line in lines[1:]} == {"unknown_kle"}
    assert CPR not in text and "sag-010170-****" in text
    everything = client.get(
        reverse("borgerblikket_admin:quality_rejections", args=["461", "all"]), {"format": "csv"}
    )
    all_lines = list(
        csv.reader(io.StringIO(b"".join(everything.streaming_content).decode("utf-8-sig")))
    )
    assert len(all_lines) == 1 + 9  # Odense's 8 + the CPR one, none of Syddjurs'
    assert {line[1] for line in all_lines[1:]} == {"FASIT", "SBSYS"}


def test_another_municipalitys_admin_cannot_see_the_rejections(client, rejections):
    client.force_login(f.municipal_admin("706"))
    for args, params in (
        (("461", "unknown_kle"), {}),
        (("461", "unknown_kle"), {"format": "csv"}),
        (("461", "all"), {"format": "csv"}),
    ):
        url = reverse("borgerblikket_admin:quality_rejections", args=args)
        assert client.get(url, params).status_code == 404
    assert client.get(reverse("borgerblikket_admin:quality", args=["461"])).status_code == 404
    # Filtering its own page by Odense's source system shows nothing of Odense's.
    fasit = SourceFeed.objects.get(source_system__name="FASIT").source_system
    own = client.get(
        reverse("borgerblikket_admin:quality_rejections", args=["706", "unknown_kle"]),
        {"source_system": fasit.pk, "format": "csv"},
    )
    lines = list(csv.reader(io.StringIO(b"".join(own.streaming_content).decode("utf-8-sig"))))
    assert lines == [lines[0]]
    mine = client.get(reverse("borgerblikket_admin:quality", args=["706"]))
    rows = {row["key"]: row["total"] for row in mine.context["rejection_rows"]}
    assert rows == {"unknown_kle": 1, "kle_moved": 3}


def test_source_system_filter_must_be_a_number(client, rejections):
    client.force_login(f.municipal_admin("461"))
    url = reverse("borgerblikket_admin:quality_rejections", args=["461", "all"])
    assert client.get(url, {"source_system": "x"}).status_code == 404


def test_cpr_scrub_masks_only_cpr_shaped_numbers():
    assert quality.cpr_scrub(text="0101701234") == "010170-****"
    assert quality.cpr_scrub(text="x 010170-1234 y") == "x 010170-**** y"
    assert quality.cpr_scrub(text="2024-000123") == "2024-000123"
    assert quality.cpr_scrub(text="12345678901") == "12345678901"
