"""The roll-out map page and its CSV, per role: the operator sees all 98 tiles named, a
municipal role its own (the others grey and unnamed), an area admin the refusal page; the
area and week parameters are validated; the CSV is what Excel opens (BOM, ;, CRLF)."""

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from borgerblikket.models import Membership, RolloutSnapshot
from borgerblikket.roles import OPERATOR_GROUP
from borgerblikket.services.rollout import rollout_snapshot_take
from tests.borgerblikket import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TZ = dt.timezone(dt.timedelta(hours=1))
NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=TZ)  # week 2026-W49
URL = "/admin/borgerblikket/rollout/"
CSV = "/admin/borgerblikket/rollout/csv/"


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def data():
    """Odense: all mandatory numbers of KLE 15 exposed and a case there; Fredensborg: data
    in 32.24 and one row; Aarhus: data, no row."""
    odense = f.SourceSystemFactory(municipality=f.municipality("461"))
    f.CaseFactory(source_system=odense, kle_subject=f.kle_subject("15.17.06"))
    for number in ("15.17.06", "15.17.12"):
        f.SheetRowFactory(municipality=f.municipality("461"), kle_subject=f.kle_subject(number))
    fredensborg = f.SourceSystemFactory(municipality=f.municipality("210"))
    f.CaseFactory(source_system=fredensborg)
    f.SheetRowFactory(municipality=f.municipality("210"), kle_subject=f.kle_subject("32.24.04"))
    f.CaseFactory(source_system=f.SourceSystemFactory(municipality=f.municipality("751")))


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _operator() -> Client:
    user = f.UserFactory(username="kombit", is_staff=True)
    user.groups.add(Group.objects.get(name=OPERATOR_GROUP))
    return _client(user)


def _member(code: str, role: str, username: str) -> Client:
    user = f.municipal_admin(code, username=username)
    Membership.objects.filter(user=user).update(role=role)
    return _client(user)


def _tiles(html: str) -> dict[str, str]:
    """code → category of every named tile."""
    return dict(
        re.findall(r'<g class="rollout-tile" id="tile-(\d{3})" data-category="(\w+)"', html)
    )


def test_the_operator_sees_all_98_tiles_named_with_patterns_a_legend_and_the_table(data):
    response = _operator().get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    tiles = _tiles(html)
    assert len(tiles) == 98 and "rollout-tile-other" not in html
    assert (tiles["461"], tiles["210"], tiles["751"], tiles["101"]) == (
        "some_exposed",  # 2 of the 10 mandatory numbers
        "some_exposed",
        "not_exposed",
        "no_data",
    )
    # Each tile has its own <title>; each category a pattern (not colour alone) and a legend.
    assert "<title>461 Odense: Enkelte KLE-numre udstillet</title>" in html
    svg = re.search(r'<svg id="rollout-map".*?</svg>', html, re.S)[0]
    assert svg.count("<title") == 98 + 1  # the map's own and one per tile
    for key in ("no_data", "not_exposed", "some_exposed", "all_mandatory"):
        assert f'<pattern id="rollout-pattern-{key}"' in html
        assert f'id="legend-{key}"' in html
    assert 'id="row-461"' in html and len(re.findall(r'<tr id="row-\d{3}"', html)) == 98
    assert 'fill="url(#rollout-pattern-not_exposed)"' in html
    assert "Ingen data i indekserne: 95" in html


def test_a_municipal_admin_sees_only_the_own_tile_named(data):
    html = _member("461", "admin", "odense-adm").get(URL).content.decode()
    assert _tiles(html) == {"461": "some_exposed"}
    assert html.count("<title>Anden kommune: ikke vist</title>") == 97
    assert "Fredensborg" not in html and "Aarhus" not in html
    assert 'id="tile-210"' not in html
    assert re.findall(r'<tr id="row-(\d{3})"', html) == ["461"]
    assert 'id="rollout-own-only"' in html


def test_a_manager_sees_the_own_position_and_an_area_admin_is_refused_in_the_admins_look(data):
    html = _member("210", "manager", "fredensborg-leder").get(URL + "?area=32").content.decode()
    assert _tiles(html) == {"210": "some_exposed"}
    area = _member("461", "area", "odense-omraade")
    for url in (URL, CSV):
        refused = area.get(url)
        assert refused.status_code == 403
        assert 'id="refused"' in refused.content.decode()
        assert "Områdeadministrator" in refused.content.decode()


def test_an_area_filters_the_map(data):
    html = _operator().get(URL + "?area=15").content.decode()
    tiles = _tiles(html)
    assert (tiles["461"], tiles["210"], tiles["751"]) == ("all_mandatory", "no_data", "no_data")
    assert "15 Gruppe 15" in html
    tiles = _tiles(_operator().get(URL + "?area=etape:etape-1").content.decode())
    assert tiles["461"] == "some_exposed"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?area=15.17.06", "KLE-hovedgruppe"),
        ("?area=99", "KLE-nummeret findes ikke: 99"),
        ("?area=etape:ingen", "Etapen findes ikke"),
        ("?week=uge49", "2026-W49"),
        ("?week=2025-W53", "Uge 53 findes ikke i 2025"),
        ("?week=2026-W50", "Ugen ligger i fremtiden"),
    ],
)
def test_a_bad_area_or_week_is_a_400_that_says_why(data, query, message):
    client = _operator()
    for url in (URL, CSV):
        response = client.get(url + query)
        assert response.status_code == 400
        html = response.content.decode()
        assert message in html and 'id="rollout-errors"' in html
        assert 'id="rollout-map"' not in html


def test_a_past_week_shows_its_snapshot_and_the_trend_counts_the_weeks(data):
    with time_machine.travel(dt.datetime(2026, 11, 24, 23, 53, tzinfo=TZ), tick=False):
        rollout_snapshot_take()  # week 48: Aarhus had no data yet
    RolloutSnapshot.objects.filter(municipality_id="751").update(category="no_data")
    rollout_snapshot_take()  # week 49

    html = _operator().get(URL + "?week=2026-W48").content.decode()
    assert _tiles(html)["751"] == "no_data"
    assert "uge 2026-W48" in html
    trend = re.search(r'<table id="rollout-trend".*?</table>', html, re.S)[0]
    rows = re.findall(r'<tr id="trend-(\d{4}-W\d\d)">', trend)
    assert rows[0] == "2026-W48" and len(rows) == 12
    assert re.search(r'id="trend-2026-W48">.*?<td>96</td><td>0</td><td>2</td>', trend, re.S)
    assert "ingen ugestatus" in trend

    live = _operator().get(URL).content.decode()
    assert re.search(r'id="trend-2026-W49">.*?<td>95</td><td>1</td><td>2</td>', live, re.S)
    # A week with no snapshot says so.
    html = _operator().get(URL + "?week=2026-W40").content.decode()
    assert "Der er ingen ugestatus for uge 2026-W40" in html and 'id="rollout-map"' not in html

    own = _member("751", "admin", "aarhus-adm").get(URL + "?week=2026-W48").content.decode()
    trend = re.search(r'<table id="rollout-trend".*?</table>', own, re.S)[0]
    assert re.search(
        r'id="trend-2026-W48">.*?<td>1</td><td>0</td><td>0</td><td>0</td>', trend, re.S
    )


def test_the_csv_is_utf8_with_a_bom_semicolons_and_crlf(data):
    response = _operator().get(CSV + "?area=15")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="udrulning-15-2026-W49.csv"'
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8")[1:]
    lines = text.split("\r\n")
    assert lines[-1] == "" and len(lines) == 1 + 98 + 1 and "\n" not in "".join(lines)
    assert lines[0] == (
        "Uge;Opgørelse;Område;Kommunekode;Kommune;Kategori;Udstillede KLE-numre;"
        "Krævede KLE-numre udstillet;Krævede KLE-numre i alt"
    )
    odense = next(line for line in lines if ";461;" in line)
    assert odense == "2026-W49;aktuel;15;461;Odense;Alle obligatoriske KLE-numre udstillet;2;2;2"
    rollout_snapshot_take()
    past = _operator().get(CSV + "?area=etape:etape-1&week=2026-W49")
    assert past["Content-Disposition"].endswith('filename="udrulning-etape-etape-1-2026-W49.csv"')
    body = b"".join(past.streaming_content).decode("utf-8-sig")
    assert "2026-W49;ugens øjebliksbillede;etape:etape-1;461;Odense;" in body


def test_the_page_links_its_stylesheet_and_has_no_inline_style(data):
    html = _operator().get(URL).content.decode()
    assert '<link rel="stylesheet" href="/static/borgerblikket/css/rollout.css">' in html
    assert finders.find("borgerblikket/css/rollout.css")
    page = html.split('<div id="rollout">')[1]
    assert "style=" not in page and "<style" not in page
    assert f'href="{reverse("borgerblikket_admin:rollout_csv")}"' in html


def test_the_page_speaks_english_on_request(data):
    client = _member("461", "admin", "odense-en")
    client.post(reverse("overblik:set_language"), {"language": "en", "next": URL})
    html = client.get(URL + "?week=2026-W50").content.decode()
    assert "The week is in the future." in html
    html = client.get(URL).content.decode()
    assert "<title>Another municipality: not shown</title>" in html
    assert "Trend: the last 12 weeks (municipalities per category)" in html


def test_the_tile_map_places_each_of_the_98_municipalities_once():
    from borgerblikket import rollout_map
    from indexes.models import Municipality

    assert set(rollout_map.TILES) == set(Municipality.objects.values_list("code", flat=True))
    assert len(set(rollout_map.TILES.values())) == len(rollout_map.TILES) == 98
    tiles = rollout_map.map_tiles()
    assert all(0 <= t.x <= rollout_map.WIDTH - rollout_map.TILE for t in tiles)
    assert all(0 <= t.y <= rollout_map.HEIGHT - rollout_map.TILE for t in tiles)
