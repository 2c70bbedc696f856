"""The KLE-online REST "fuld" format: UUID and Stikord, and its XSD 1.1 assertions."""

import uuid

import pytest
from lxml import etree

from kle.models import Keyword, Subject
from kle.services.errors import KleImportError
from kle.services.importer import kle_import
from tests.kle.conftest import (
    FIXTURE_EMNEPLAN,
    REST_FIXTURE,
    item,
    kle_snapshot,
    line_of,
    parse,
    write,
)

pytestmark = pytest.mark.django_db


def test_rest_file_is_recognised_and_imports_uuid_and_keywords():
    report = kle_import(source=str(REST_FIXTURE))

    assert report.format == "rest-fuld"
    assert (
        report.created
        == report.items
        == len(parse(REST_FIXTURE).xpath("//Hovedgruppe | //Gruppe | //Emne"))
    )
    hegnssyn = Subject.objects.get(number="02.00.10")
    assert hegnssyn.uuid == uuid.UUID("2f0c7a9e-5a51-4f3e-9a57-0c1d2e3f4a10")
    assert list(hegnssyn.keywords.order_by("order").values_list("order", "text", "facet_code")) == [
        ("1", "Hegn", ""),
        ("2", "Hegnssynsforretning", ""),
        ("3", "Beskikkelse af hegnssynsmænd", "A30"),
        ("4", "Påbud om hegn", "K08"),
    ]
    assert Subject.objects.get(number="02.00").keywords.get().text == "Byggesager"
    assert Subject.objects.get(number="02").keywords.get().text == "Byggeri"
    # Several HovedgruppeFilter elements (allowed in the REST format) are merged.
    assert Subject.objects.get(number="02").filters == ["KommunalVandDelplan", "PrivatVandDelplan"]
    # An expired emne may come without a UUID.
    expired = Subject.objects.get(number="02.00.01")
    assert (expired.uuid, expired.expired_on is not None) == (None, True)


def test_rest_file_second_import_changes_nothing():
    kle_import(source=str(REST_FIXTURE))
    before = kle_snapshot()

    report = kle_import(source=str(REST_FIXTURE))

    assert report.changes == 0
    after = kle_snapshot()
    assert after["Keyword"] == before["Keyword"]
    assert after["Subject"] == before["Subject"]


def test_changed_keywords_count_as_a_changed_topic_and_are_replaced(tmp_path):
    kle_import(source=str(REST_FIXTURE))
    root = parse(REST_FIXTURE)
    hegnssyn = item(root, "02.00.10")
    hegnssyn.find("EmneStikord/Tekst").text = "Hegnstvist"

    report = kle_import(source=str(write(tmp_path, "rest.xml", root)))

    assert (report.changed, report.created) == (1, 0)
    texts = set(Keyword.objects.filter(subject__number="02.00.10").values_list("text", flat=True))
    assert "Hegnstvist" in texts and "Hegn" not in texts
    assert len(texts) == 4


def test_rest_import_keeps_the_fields_only_the_2_0_format_carries():
    kle_import(source=str(FIXTURE_EMNEPLAN))

    report = kle_import(source=str(REST_FIXTURE))

    hegnssyn = Subject.objects.get(number="02.00.10")
    assert hegnssyn.uuid is not None
    # BevaringJaevnfoerArkivloven and SletningJaevnfoerPersondataloven are not in the REST
    # format: the values from the 2.0 file stay.
    assert hegnssyn.retention_code == "B"
    assert hegnssyn.deletion_period.days == 1800
    assert report.absent == Subject.objects.count() - report.items


def _with(mutate, tmp_path):
    root = parse(REST_FIXTURE)
    mutate(root)
    text = etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()
    return write(tmp_path, "rest.xml", text), text


def test_an_active_emne_without_emnestikord_is_rejected(tmp_path):
    def drop_keywords(root):
        topic = item(root, "32.24.04")
        for keyword in topic.findall("EmneStikord"):
            topic.remove(keyword)

    path, text = _with(drop_keywords, tmp_path)
    before = kle_snapshot()

    with pytest.raises(KleImportError) as caught:
        kle_import(source=str(path))

    problem = caught.value.problems[0]
    assert problem.element == "Emne" and "EmneStikord" in problem.message
    assert problem.line == line_of(text, "<EmneNr>32.24.04") - 1  # the <Emne> line
    assert kle_snapshot() == before


def test_an_active_emne_with_a_malformed_uuid_is_rejected(tmp_path):
    def break_uuid(root):
        item(root, "32.24.04").find("UUID").text = "not-a-uuid"

    path, text = _with(break_uuid, tmp_path)

    with pytest.raises(KleImportError) as caught:
        kle_import(source=str(path))

    problem = caught.value.problems[0]
    assert problem.element == "UUID" and "'not-a-uuid' is not a UUID" in problem.message
    assert problem.line == line_of(text, "not-a-uuid")
