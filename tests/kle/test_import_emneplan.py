"""Importing and syncing the emneplan (KLE XML 2.0) from the packaged fixture."""

import copy
import datetime as dt

import pytest
from lxml import etree

from kle.models import Publication, Subject, Succession
from kle.services.errors import KleImportError
from kle.services.importer import kle_import, kle_import_many
from tests.kle.conftest import FIXTURE_EMNEPLAN, item, kle_snapshot, parse, write

pytestmark = pytest.mark.django_db


def _count(root, tag: str) -> int:
    return len(root.findall(f".//{tag}"))


def test_fixture_import_creates_every_item_of_the_file():
    root = parse(FIXTURE_EMNEPLAN)

    report = kle_import(source=str(FIXTURE_EMNEPLAN))

    assert Subject.objects.filter(level="hovedgruppe").count() == _count(root, "Hovedgruppe")
    assert Subject.objects.filter(level="gruppe").count() == _count(root, "Gruppe")
    assert Subject.objects.filter(level="emne").count() == _count(root, "Emne")
    total = _count(root, "Hovedgruppe") + _count(root, "Gruppe") + _count(root, "Emne")
    assert (report.items, report.created, report.changes) == (total, total, total)
    assert report.published_on == dt.date.fromisoformat(root.findtext("UdgivelsesDato"))
    assert report.kind == "emneplan" and report.format == "2.0"


def test_fixture_items_carry_what_the_file_says():
    kle_import(source=str(FIXTURE_EMNEPLAN))

    hegnssyn = Subject.objects.select_related("parent__parent").get(number="02.00.10")
    assert hegnssyn.title == "Hegnssyn"
    assert hegnssyn.level == Subject.Level.TOPIC
    assert (hegnssyn.parent.number, hegnssyn.parent.parent.number) == ("02.00", "02")
    assert hegnssyn.parent.parent.parent_id is None
    assert hegnssyn.retention_code == "B"
    assert hegnssyn.deletion_period == dt.timedelta(days=1800)
    assert hegnssyn.created_on == dt.date(1988, 1, 1)
    assert hegnssyn.is_active
    assert {"title": "Hegnsloven", "paragraph": "", "accession_number": "A20070005929"} in (
        hegnssyn.legal_references
    )
    # VejledningTekst: KLE's <p><ul>…</ul></p> becomes valid HTML of the allowed tags only.
    assert "<b>hegnssyn</b>" in hegnssyn.guidance_html
    assert "<ul><li>hegnssynsforretninger</li>" in hegnssyn.guidance_html
    assert "VejledningTekst" not in hegnssyn.guidance_html

    aktindsigt = Subject.objects.get(number="00.07.03")
    assert aktindsigt.corrected_on == ["2013-05-01"]
    assert aktindsigt.filters == [
        "KommunalVandDelplan",
        "SaerligStoetteDelplan",
        "JobcenterDelplan",
    ]


def test_expired_and_moved_items_keep_their_history_and_successors():
    kle_import(source=str(FIXTURE_EMNEPLAN))

    expired = Subject.objects.get(number="02.00.01")
    assert expired.title == "Byggetilladelse [udgået]"  # kept as delivered
    assert expired.expired_on == dt.date(2006, 2, 1)
    assert not expired.is_active

    moved = Subject.objects.get(number="00.10.00")
    assert moved.moved_on == dt.date(2014, 11, 1)
    assert moved.successor_numbers == ["15.40.00"]
    assert [s.number for s in moved.successors.all()] == ["15.40.00"]
    assert not moved.is_active

    successor = Subject.objects.get(number="15.40.00")
    assert successor.is_active
    assert sorted(p.number for p in successor.predecessors.all()) == ["00.10.00", "00.10.10"]
    # A gruppe can be moved to a gruppe, a hovedgruppe to an emne.
    assert [s.number for s in Subject.objects.get(number="00.10").successors.all()] == ["15.40"]
    assert [s.number for s in Subject.objects.get(number="16").successors.all()] == ["27.00.00"]


def test_second_import_of_the_same_file_changes_nothing_and_says_so():
    kle_import(source=str(FIXTURE_EMNEPLAN))
    before = kle_snapshot()

    report = kle_import(source=str(FIXTURE_EMNEPLAN))

    assert report.changes == 0
    assert report.unchanged == report.items > 0
    assert "no changes" in report.summary()
    after = kle_snapshot()
    # Only the new Publication row differs: the taxonomy is untouched.
    assert {k: v for k, v in after.items() if k != "Publication"} == {
        k: v for k, v in before.items() if k != "Publication"
    }
    assert len(after["Publication"]) == len(before["Publication"]) + 1
    publication = Publication.objects.get(pk=report.publication_id)
    assert (publication.unchanged_count, publication.created_count) == (report.items, 0)


def _older_fixture(tmp_path):
    """The fixture as it might have looked one quarter earlier."""
    root = parse(FIXTURE_EMNEPLAN)
    root.find("UdgivelsesDato").text = "2015-05-01"
    # 15.17.26 did not exist yet.
    topic = item(root, "15.17.26")
    topic.getparent().remove(topic)
    # 15.17.06 had another title.
    item(root, "15.17.06").find("EmneTitel").text = "Opfølgning på sygedagpenge"
    # 02.00.01 had not expired yet.
    expired = item(root, "02.00.01")
    expired.find("EmneTitel").text = "Byggetilladelse"
    history = expired.find("EmneAdministrativInfo/Historisk")
    history.getparent().remove(history)
    # 00.10.00 had not moved yet.
    moved = item(root, "00.10.00")
    history = moved.find("EmneAdministrativInfo/Historisk")
    history.getparent().remove(history)
    return write(tmp_path, "older.xml", root)


def test_older_then_newer_file_reports_created_changed_expired_and_moved(tmp_path):
    older = kle_import(source=str(_older_fixture(tmp_path)))
    assert older.created == older.items
    assert Subject.objects.get(number="00.10.00").successors.count() == 0

    newer = kle_import(source=str(FIXTURE_EMNEPLAN))

    assert (newer.created, newer.changed, newer.expired, newer.moved) == (1, 1, 1, 1)
    assert newer.unchanged == newer.items - 4
    assert "1 created, 1 changed, 1 expired, 1 moved" in newer.summary()
    publication = Publication.objects.get(pk=newer.publication_id)
    assert (publication.created_count, publication.changed_count) == (1, 1)
    assert (publication.expired_count, publication.moved_count) == (1, 1)

    changed = Subject.objects.get(number="15.17.06")
    assert changed.title == "Sygedagpengeopfølgning"
    assert (changed.created_in_id, changed.changed_in_id) == (
        older.publication_id,
        newer.publication_id,
    )
    assert Subject.objects.get(number="15.17.26").created_in_id == newer.publication_id
    assert Subject.objects.get(number="02.00.01").expired_on == dt.date(2006, 2, 1)
    moved = Subject.objects.get(number="00.10.00")
    assert moved.moved_on == dt.date(2014, 11, 1)
    assert [s.number for s in moved.successors.all()] == ["15.40.00"]
    unchanged = Subject.objects.get(number="02.00.10")
    assert unchanged.changed_in_id == older.publication_id


def test_a_split_topic_gets_every_successor_and_loses_those_a_later_file_drops(tmp_path):
    root = parse(FIXTURE_EMNEPLAN)
    root.find("UdgivelsesDato").text = "2015-05-01"
    moved = item(root, "00.10.10").find("EmneAdministrativInfo/Historisk/Flyttet")
    extra = copy.deepcopy(moved.find("AfloestAf"))
    extra.find("EmneNr").text = "15.40.10"
    moved.append(extra)
    kle_import(source=str(write(tmp_path, "split.xml", root)))
    split = Subject.objects.get(number="00.10.10")
    assert sorted(s.number for s in split.successors.all()) == ["15.40.00", "15.40.10"]

    report = kle_import(source=str(FIXTURE_EMNEPLAN))

    assert report.changed == 1
    assert [s.number for s in split.successors.all()] == ["15.40.00"]
    assert Succession.objects.filter(predecessor=split).count() == 1


def test_an_older_file_after_a_newer_one_is_refused_unless_allowed(tmp_path):
    older = _older_fixture(tmp_path)
    kle_import(source=str(FIXTURE_EMNEPLAN))
    before = kle_snapshot()

    with pytest.raises(KleImportError) as caught:
        kle_import(source=str(older))

    assert "UdgivelsesDato" in str(caught.value) and "older" in str(caught.value)
    assert kle_snapshot() == before
    report = kle_import(source=str(older), allow_older=True)
    # Going back in time un-expires, un-moves and renames; 15.17.26 is kept, not deleted.
    assert (report.changed, report.created, report.absent) == (3, 0, 1)
    assert Subject.objects.filter(number="15.17.26").exists()


def test_topics_are_never_deleted_by_a_file_that_omits_them(tmp_path):
    kle_import(source=str(FIXTURE_EMNEPLAN))
    count = Subject.objects.count()
    root = parse(FIXTURE_EMNEPLAN)
    for main_group in root.findall("Hovedgruppe"):
        if main_group.findtext("HovedgruppeNr") != "02":
            root.remove(main_group)

    report = kle_import(source=str(write(tmp_path, "excerpt.xml", root)))

    assert Subject.objects.count() == count
    assert report.changes == 0
    assert report.absent == count - report.items > 0
    assert f"{report.absent} not in the file (kept)" in report.summary()


def test_when_a_later_file_fails_the_earlier_files_of_the_same_call_are_rolled_back(tmp_path):
    kle_import(source=str(_older_fixture(tmp_path)))
    before = kle_snapshot()
    root = parse(FIXTURE_EMNEPLAN)
    root.find("UdgivelsesDato").text = "2015-01-01"  # older than both: refused while applying

    with pytest.raises(KleImportError):
        kle_import_many(sources=[str(FIXTURE_EMNEPLAN), str(write(tmp_path, "old.xml", root))])

    assert kle_snapshot() == before


def test_guidance_is_sanitised_to_the_allowed_tags(tmp_path):
    root = parse(FIXTURE_EMNEPLAN)
    # The XSD leaves <b> and <i> untyped, so a valid file can carry any markup inside them.
    paragraph = item(root, "02.00.10").find("EmneVejledning/VejledningTekst/p")
    bold = etree.SubElement(paragraph, "b")
    bold.text = "Se "
    link = etree.SubElement(bold, "a", href="javascript:alert(1)")
    link.text = "her"
    script = etree.SubElement(bold, "script")
    script.text = "alert(2)"
    etree.SubElement(bold, "img", src="x", onerror="alert(3)")

    kle_import(source=str(write(tmp_path, "markup.xml", root)))

    html = Subject.objects.get(number="02.00.10").guidance_html
    assert "<b>Se her</b>" in html
    for forbidden in ("<a", "javascript", "<script", "alert", "<img", "onerror"):
        assert forbidden not in html
