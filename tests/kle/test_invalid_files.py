"""Invalid files are refused with the element, the problem and the line, and change nothing."""

import pytest
from django.core.management import CommandError, call_command

from kle.models import Subject
from kle.services.errors import KleImportError
from kle.services.importer import kle_import, kle_import_many
from tests.kle.conftest import FIXTURE_EMNEPLAN, FIXTURE_FACETS, kle_snapshot, line_of, write

pytestmark = pytest.mark.django_db

EMNEPLAN = FIXTURE_EMNEPLAN.read_text(encoding="utf-8")
FACETS = FIXTURE_FACETS.read_text(encoding="utf-8")
HEGNSSYN = "<EmneNr>02.00.10</EmneNr>"


def _replace(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


def _drop_line(text: str, marker: str) -> str:
    start = text.rindex("\n", 0, text.index(marker))
    end = text.index("\n", start + 1)
    return text[:start] + text[end:]


def _drop_emne(text: str, number: str) -> str:
    start = text.rindex("\t\t\t<Emne>", 0, text.index(f"<EmneNr>{number}</EmneNr>"))
    end = text.index("</Emne>\n", start) + len("</Emne>\n")
    return text[:start] + text[end:]


# (id, the broken file, the element named, words of the problem, a marker that starts on
# the line the problem must name)
CASES = [
    (
        "bad-xml",
        _replace(EMNEPLAN, "<EmneTitel>Hegnssyn</EmneTitel>", "<EmneTitel>Hegnssyn</EmneTitle>"),
        None,
        ["not well-formed", "EmneTitle"],
        "</EmneTitle>",
    ),
    (
        "wrong-root",
        _replace(EMNEPLAN, "<KLE-Emneplan>", "<KLE-Emneplaner>").replace(
            "</KLE-Emneplan>", "</KLE-Emneplaner>"
        ),
        "KLE-Emneplaner",
        ["wrong root element", "KLE-Emneplan"],
        "<KLE-Emneplaner>",
    ),
    (
        "number-missing-leading-zero",
        _replace(EMNEPLAN, HEGNSSYN, "<EmneNr>2.00.10</EmneNr>"),
        "EmneNr",
        ["'2.00.10'", "pattern"],
        "<EmneNr>2.00.10",
    ),
    (
        "number-with-letter",
        _replace(EMNEPLAN, HEGNSSYN, "<EmneNr>02.00.1A</EmneNr>"),
        "EmneNr",
        ["'02.00.1A'", "pattern"],
        "<EmneNr>02.00.1A",
    ),
    (
        "missing-required-title",
        _drop_line(EMNEPLAN, "<EmneTitel>Hegnssyn</EmneTitel>"),
        "EmneVejledning",
        ["not expected", "EmneTitel"],
        "<EmneVejledning>",
    ),
    (
        "gruppe-without-emne",
        _drop_emne(EMNEPLAN, "05.09.12"),
        "Gruppe",
        ["required child element is missing", "<Emne>"],
        "<Gruppe>\n\t\t\t<GruppeNr>05.09</GruppeNr>",
    ),
    (
        "missing-publication-date",
        _drop_line(EMNEPLAN, "<UdgivelsesDato>"),
        "Hovedgruppe",
        ["not expected", "UdgivelsesDato"],
        "<Hovedgruppe>",
    ),
    (
        "duplicate-number",
        _replace(EMNEPLAN, HEGNSSYN, "<EmneNr>02.00.01</EmneNr>"),
        "EmneNr",
        ["02.00.01 appears more than once", "first at line"],
        "<EmneNr>02.00.01</EmneNr>\n\t\t\t\t<EmneTitel>Hegnssyn",
    ),
    (
        "number-under-another-gruppe",
        _replace(EMNEPLAN, HEGNSSYN, "<EmneNr>05.09.10</EmneNr>"),
        "EmneNr",
        ["05.09.10 does not belong under 02.00"],
        "<EmneNr>05.09.10",
    ),
    (
        "invalid-date",
        _replace(
            EMNEPLAN,
            "<OprettetDato>2014-05-01</OprettetDato>",
            "<OprettetDato>2014-13-01</OprettetDato>",
        ),
        "OprettetDato",
        ["'2014-13-01'", "xs:date"],
        "2014-13-01",
    ),
    (
        "deletion-period-in-years",
        _replace(
            EMNEPLAN,
            "<SletningJaevnfoerPersondataloven>P1800D</SletningJaevnfoerPersondataloven>",
            "<SletningJaevnfoerPersondataloven>P5Y</SletningJaevnfoerPersondataloven>",
        ),
        "SletningJaevnfoerPersondataloven",
        ["'P5Y'", "years or months"],
        "P5Y",
    ),
    (
        "unknown-retention-code",
        _replace(
            EMNEPLAN,
            "<BevaringJaevnfoerArkivloven>B</BevaringJaevnfoerArkivloven>",
            "<BevaringJaevnfoerArkivloven>X</BevaringJaevnfoerArkivloven>",
        ),
        "BevaringJaevnfoerArkivloven",
        ["'X'"],
        "<BevaringJaevnfoerArkivloven>X",
    ),
    (
        "title-too-long",
        _replace(
            EMNEPLAN, "<EmneTitel>Hegnssyn</EmneTitel>", f"<EmneTitel>{'H' * 501}</EmneTitel>"
        ),
        "EmneTitel",
        ["501 characters; at most 500"],
        "<EmneTitel>HHH",
    ),
    (
        "facet-under-another-category",
        _replace(
            FACETS,
            "<HandlingsfacetNr>K04</HandlingsfacetNr>",
            "<HandlingsfacetNr>G04</HandlingsfacetNr>",
        ),
        "HandlingsfacetNr",
        ["facet G04 does not belong to category K"],
        "<HandlingsfacetNr>G04",
    ),
    (
        "facet-code-with-unknown-category",
        _replace(
            FACETS,
            "<HandlingsfacetNr>K04</HandlingsfacetNr>",
            "<HandlingsfacetNr>X04</HandlingsfacetNr>",
        ),
        "HandlingsfacetNr",
        ["'X04'", "pattern"],
        "<HandlingsfacetNr>X04",
    ),
]


@pytest.fixture
def populated():
    """A database that is not empty, so "nothing changed" means something."""
    kle_import(source=str(FIXTURE_EMNEPLAN))
    kle_import(source=str(FIXTURE_FACETS))
    return kle_snapshot()


@pytest.mark.parametrize(
    ("text", "element", "words", "marker"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_invalid_file_names_element_problem_and_line_and_changes_nothing(
    tmp_path, populated, text, element, words, marker
):
    path = write(tmp_path, "broken.xml", text)

    with pytest.raises(KleImportError) as caught:
        kle_import(source=str(path), allow_older=True)

    problem = caught.value.problems[0]
    assert problem.element == element
    for word in words:
        assert word in problem.message
    assert problem.line == line_of(text, marker)
    message = str(caught.value)
    assert str(path) in message and f"line {problem.line}" in message
    assert kle_snapshot() == populated


def test_the_command_refuses_an_invalid_file_with_a_command_error(tmp_path, populated):
    text = _replace(EMNEPLAN, HEGNSSYN, "<EmneNr>2.00.10</EmneNr>")
    path = write(tmp_path, "broken.xml", text)

    with pytest.raises(CommandError) as caught:
        call_command("import_kle", str(path), "--allow-older")

    message = str(caught.value)
    assert f"line {line_of(text, '<EmneNr>2.00.10')}" in message
    assert "<EmneNr>" in message and "2.00.10" in message
    assert "nothing was changed" in message
    assert kle_snapshot() == populated


def test_one_invalid_file_among_valid_ones_means_none_is_imported(tmp_path):
    broken = write(tmp_path, "broken.xml", _replace(EMNEPLAN, HEGNSSYN, "<EmneNr>2.00.10</EmneNr>"))

    with pytest.raises(KleImportError):
        kle_import_many(sources=[str(FIXTURE_FACETS), str(FIXTURE_EMNEPLAN), str(broken)])

    assert kle_snapshot() == {name: [] for name in kle_snapshot()}


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", ["not well-formed", "empty"]),
        (b"KLE-Emneplan 02.00.10 Hegnssyn\n", ["not well-formed"]),
        (b"<?xml version='1.0'?>\n<KLE-Emneplan>\n<UdgivelsesDato>", ["not well-formed"]),
    ],
    ids=["empty", "not-xml", "truncated"],
)
def test_files_that_are_not_xml_are_refused(tmp_path, content, words):
    with pytest.raises(KleImportError) as caught:
        kle_import(source=str(write(tmp_path, "x.xml", content)))

    for word in words:
        assert word.lower() in str(caught.value).lower()
    assert not Subject.objects.exists()


def test_a_missing_file_is_refused_with_the_reason(tmp_path):
    missing = tmp_path / "nowhere.xml"

    with pytest.raises(KleImportError) as caught:
        kle_import(source=str(missing))

    assert str(missing) in str(caught.value)
    assert "No such file" in str(caught.value)


def test_a_successor_missing_from_kle_is_a_warning_not_an_error(tmp_path):
    # KLE 2015-08-01 itself moves 16.00.15 to 29.00.09, which it does not contain.
    text = _replace(
        EMNEPLAN,
        "<EmneNr>15.40.00</EmneNr>\n\t\t\t\t\t\t\t</AfloestAf>",
        "<EmneNr>15.40.99</EmneNr>\n\t\t\t\t\t\t\t</AfloestAf>",
    )

    report = kle_import(source=str(write(tmp_path, "dangling.xml", text)))

    assert report.created == report.items
    assert any("15.40.99" in warning for warning in report.warnings)
    moved = Subject.objects.get(successor_numbers=["15.40.99"])
    assert moved.successors.count() == 0
