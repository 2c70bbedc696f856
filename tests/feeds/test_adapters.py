"""Each adapter reads its product's wire format back into exactly the records the system meant."""

import json

import pytest

from indexes.feeds.adapters import ADAPTERS, DEFAULT_ADAPTER, PageUnreadable
from simulators.faults import FaultRates
from simulators.systems import SIMULATORS, SimulatorConfig
from tests.feeds.conftest import NOW

PRODUCTS = sorted(SIMULATORS)


def simulator(product: str, **settings):
    config = SimulatorConfig.from_dict({"seed": 5, "citizens": 40} | settings)
    return SIMULATORS[product](municipality="461", config=config)


def read_all(product: str, sim, limit: int):
    adapter = ADAPTERS[DEFAULT_ADAPTER[product]]
    cursor, deliveries, pages = "", [], 0
    while True:
        body = sim.page(params=adapter.request_params(cursor=cursor, limit=limit), now=NOW)
        page = adapter.page_parse(body=body, cursor=cursor, municipality="461", limit=limit)
        deliveries.extend(page.deliveries)
        cursor, pages = page.next_cursor, pages + 1
        if not page.has_more:
            return deliveries, cursor, pages


@pytest.mark.parametrize("product", PRODUCTS)
@pytest.mark.parametrize("limit", [1, 37, 500])
def test_round_trip_gives_back_every_record_exactly_with_faults_and_all(product, limit):
    sim = simulator(product, faults=FaultRates.realistic().as_dict(), demo=True)
    deliveries, _cursor, pages = read_all(product, sim, limit)
    visible = sim.log[: sim.visible_count(NOW)]
    assert len(deliveries) == len(visible) > 0
    if limit == 1:
        assert pages > 1
    for delivery, change in zip(deliveries, visible, strict=True):
        assert not delivery.problems
        assert (delivery.kind, delivery.external_id) == (change.kind, change.external_id)
        assert delivery.payload == change.payload


@pytest.mark.parametrize("product", PRODUCTS)
def test_reading_from_the_last_cursor_gives_nothing_new(product):
    sim = simulator(product)
    _deliveries, cursor, _pages = read_all(product, sim, 200)
    adapter = ADAPTERS[DEFAULT_ADAPTER[product]]
    body = sim.page(params=adapter.request_params(cursor=cursor, limit=200), now=NOW)
    page = adapter.page_parse(body=body, cursor=cursor, municipality="461", limit=200)
    assert page.deliveries == [] and not page.has_more and page.next_cursor == cursor


@pytest.mark.parametrize("product", PRODUCTS)
def test_a_page_of_another_municipality_is_refused_whole(product):
    sim = SIMULATORS[product](municipality="706", config=SimulatorConfig(citizens=30))
    adapter = ADAPTERS[DEFAULT_ADAPTER[product]]
    body = sim.page(params=adapter.request_params(cursor="", limit=50), now=NOW)
    with pytest.raises(PageUnreadable, match="461"):
        adapter.page_parse(body=body, cursor="", municipality="461", limit=50)


@pytest.mark.parametrize(
    ("product", "body"),
    [
        ("FASIT", b"{not json"),
        ("FASIT", b'{"kommunenr": "0461"}'),
        ("SBSYS", b"<SBSYSEksport"),
        ("SBSYS", b"<Andet/>"),
        ("Nexus", b""),
        ("KMD Ydelse", b'{"type": "BEVILLING"}\n'),
    ],
)
def test_unreadable_pages_are_refused_with_a_reason(product, body):
    adapter = ADAPTERS[DEFAULT_ADAPTER[product]]
    with pytest.raises(PageUnreadable) as caught:
        adapter.page_parse(body=body, cursor="", municipality="461", limit=10)
    assert str(caught.value)


SBSYS_HEAD = (
    '<SBSYSEksport xmlns="urn:sbsys:eksport:1" kommunekode="461" fraLoebenummer="1" '
    'tilLoebenummer="1" flere="false"><Aendring loebenummer="1" tidspunkt="2024-01-02T10:00:00+01:00">'
)


@pytest.mark.parametrize(
    "doctype",
    [
        # An external entity (XXE) reading a local file.
        '<!DOCTYPE x [<!ENTITY leak SYSTEM "file:///etc/passwd">]>',
        # Entity expansion ("billion laughs").
        '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>',
        # A DTD fetched over the network.
        '<!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd">',
    ],
)
def test_sbsys_pages_with_a_dtd_are_refused_and_nothing_is_expanded(doctype):
    body = (
        f'<?xml version="1.0"?>{doctype}{SBSYS_HEAD}<Dokument DokumentID="1"><Titel>&leak;&c;</Titel>'
        "</Dokument></Aendring></SBSYSEksport>"
    ).encode()
    with pytest.raises(PageUnreadable) as caught:
        ADAPTERS["sbsys_xml"].page_parse(body=body, cursor="0", municipality="461", limit=10)
    assert "root:" not in str(caught.value)


def test_a_truncated_sbsys_export_is_refused():
    sim = simulator("SBSYS")
    body = sim.page(params={"fraLoebenummer": "1", "maks": "20"}, now=NOW)
    cut = body.replace(b'tilLoebenummer="20"', b'tilLoebenummer="25"')
    with pytest.raises(PageUnreadable, match="afkortet"):
        ADAPTERS["sbsys_xml"].page_parse(body=cut, cursor="0", municipality="461", limit=20)


def test_a_payments_batch_cut_off_in_transfer_is_refused_whole():
    sim = simulator("KMD Ydelse")
    adapter = ADAPTERS["kmd_ydelse_ndjson"]
    body = sim.page(params=adapter.request_params(cursor="", limit=300), now=NOW)
    lines = body.decode().splitlines()
    without_a_line = "\n".join(lines[:3] + lines[4:]).encode()
    with pytest.raises(PageUnreadable, match="antal linjer"):
        adapter.page_parse(body=without_a_line, cursor="", municipality="461", limit=300)
    without_trailer = "\n".join(lines[:-1]).encode()
    with pytest.raises(PageUnreadable, match="SIDESLUT"):
        adapter.page_parse(body=without_trailer, cursor="", municipality="461", limit=300)


def test_a_record_that_cannot_be_mapped_is_rejected_alone_and_its_reason_hides_cpr():
    sim = simulator("FASIT")
    body = json.loads(sim.page(params={"fra": "", "antal": "5"}, now=NOW))
    assert body["haendelser"][1]["objekttype"] == "BREV"
    body["haendelser"][1]["brev"]["foelsomhed"] = "HEMMELIG 0101501234"
    adapter = ADAPTERS["fasit_json"]
    page = adapter.page_parse(
        body=json.dumps(body).encode(), cursor="", municipality="461", limit=5
    )
    assert [bool(d.problems) for d in page.deliveries] == [False, True, False, False, False]
    (problem,) = page.deliveries[1].problems
    assert problem.code == "unmappable" and problem.pointer == "/haendelser/1"
    assert "0101501234" not in problem.message and "[CPR]" in problem.message


def test_nexus_reads_windows_1252_with_danish_letters():
    sim = simulator("Nexus", citizens=80)
    body = sim.page(params={"efter": "0", "antal": "1000"}, now=NOW)
    assert "ø".encode("cp1252") in body and "ø".encode() not in body
    page = ADAPTERS["nexus_csv"].page_parse(body=body, cursor="0", municipality="461", limit=1000)
    names = {b["name"] for d in page.deliveries if d.kind == "grant" for b in d.payload["benefits"]}
    assert names & {"Rengøring (FSIII)", "Kørestol, manuel", "Badebænk", "Nødkald"}
