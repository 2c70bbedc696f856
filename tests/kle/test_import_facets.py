"""Importing handlingsfacetter: the fixture's 7 categories, the real excerpt, sync buckets."""

import copy
import datetime as dt

import pytest
from lxml import etree

from kle.models import Facet, FacetCategory
from kle.numbers import FACET_CATEGORY_CODES
from kle.services.errors import KleImportError
from kle.services.importer import kle_import
from tests.kle.conftest import FIXTURE_FACETS, item, kle_snapshot, parse, write

pytestmark = pytest.mark.django_db


def test_fixture_has_the_seven_categories_and_their_facets():
    root = parse(FIXTURE_FACETS)

    report = kle_import(source=str(FIXTURE_FACETS))

    assert report.kind == "handlingsfacetter" and not report.warnings
    assert sorted(FacetCategory.objects.values_list("code", flat=True)) == sorted(
        FACET_CATEGORY_CODES
    )
    assert Facet.objects.count() == len(root.findall(".//Handlingsfacet"))
    general = Facet.objects.select_related("category").get(code="G01")
    assert (general.title, general.category.code) == ("Generelle sager", "G")
    # Ø is a literal letter of the code.
    assert Facet.objects.get(code="Ø54").category.code == "Ø"
    assert Facet.objects.get(code="K08").title.startswith("Syn (kommunetilsyn)")
    for category in FacetCategory.objects.all():
        assert category.facets.exists(), category.code


def test_facets_second_import_changes_nothing():
    kle_import(source=str(FIXTURE_FACETS))
    before = kle_snapshot()

    report = kle_import(source=str(FIXTURE_FACETS))

    assert report.changes == 0 and report.unchanged == report.items
    after = kle_snapshot()
    assert (after["Facet"], after["FacetCategory"]) == (before["Facet"], before["FacetCategory"])


def test_facet_sync_reports_expired_changed_and_created(tmp_path):
    older = parse(FIXTURE_FACETS)
    older.find("UdgivelsesDato").text = "2015-02-01"
    g20 = item(older, "G20")
    g20.getparent().remove(g20)
    item(older, "G10").find("HandlingsfacetTitel").text = "Salg"
    kle_import(source=str(write(tmp_path, "older.xml", older)))
    newer = parse(FIXTURE_FACETS)
    info = item(newer, "P24").find("HandlingsfacetAdministrativInfo")
    history = etree.SubElement(info, "Historisk")
    etree.SubElement(history, "UdgaaetDato").text = "2015-05-01"

    report = kle_import(source=str(write(tmp_path, "newer.xml", newer)))

    assert (report.created, report.changed, report.expired, report.moved) == (1, 1, 1, 0)
    assert Facet.objects.get(code="P24").expired_on == dt.date(2015, 5, 1)
    assert not Facet.objects.get(code="P24").is_active
    assert Facet.objects.get(code="G10").title == "Salg af varer, tjenester, ejendom mv."


def test_real_excerpt_imports_and_is_reported_as_an_excerpt(real_facets_excerpt):
    report = kle_import(source=str(real_facets_excerpt))

    assert report.published_on == dt.date(2015, 5, 1)
    assert [w for w in report.warnings if "excerpt" in w]
    category = FacetCategory.objects.get(code="A")
    assert category.title == "Organisering mv."
    assert category.corrected_on == ["2005-02-01"]
    assert "<li>organisationsopbygning</li>" in category.guidance_html
    facet = Facet.objects.get(code="A00")
    assert (facet.title, facet.retention_code, facet.category_id) == (
        "Organisering mv. i almindelighed",
        "B",
        category.pk,
    )
    assert kle_import(source=str(real_facets_excerpt)).changes == 0


def test_an_excerpt_after_the_full_fixture_leaves_the_other_facets_alone(real_facets_excerpt):
    kle_import(source=str(FIXTURE_FACETS))
    count = Facet.objects.count()

    report = kle_import(source=str(real_facets_excerpt), allow_older=True)

    assert Facet.objects.count() == count
    assert report.absent == FacetCategory.objects.count() + count - report.items


def test_duplicate_category_is_rejected(tmp_path):
    root = parse(FIXTURE_FACETS)
    categories = root.findall("HandlingsfacetKategori")
    categories[1].find("HandlingsfacetKategoriNr").text = "A"
    facets = categories[1].findall("Handlingsfacet")
    for number, facet in enumerate(facets, start=60):
        facet.find("HandlingsfacetNr").text = f"A{number}"

    with pytest.raises(KleImportError) as caught:
        kle_import(source=str(write(tmp_path, "dup.xml", root)))

    problem = caught.value.problems[0]
    assert problem.element == "HandlingsfacetKategoriNr"
    assert "A appears more than once" in problem.message
    assert not FacetCategory.objects.exists()


def test_more_than_seven_categories_is_rejected_by_the_xsd(tmp_path):
    root = parse(FIXTURE_FACETS)
    root.append(copy.deepcopy(root.findall("HandlingsfacetKategori")[-1]))

    with pytest.raises(KleImportError) as caught:
        kle_import(source=str(write(tmp_path, "eight.xml", root)))

    assert caught.value.problems[0].element == "HandlingsfacetKategori"
    assert "not expected" in caught.value.problems[0].message
