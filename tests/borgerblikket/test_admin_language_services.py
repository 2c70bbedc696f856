"""Issue 16: the texts of the sheet services (the import's problems, a file refused, a revert
refused) reach an admin who chose English in English, and stay Danish by default."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from borgerblikket import validators
from borgerblikket.models import SheetChange
from borgerblikket.services.sheet_io import HEADERS, SheetFileError, sheet_file_rows
from borgerblikket.services.sheets import SheetError, sheet_row_save
from tests.borgerblikket import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _client(language: str) -> Client:
    client = Client()
    client.force_login(f.municipal_admin("461", username=f"odense-{language}"))
    client.post(reverse("overblik:set_language"), {"language": language, "next": "/admin/"})
    return client


def _sheet() -> bytes:
    f.kle_subject("15.17.06", "Sygedagpengeopfølgning")
    lines = [
        "\t".join(HEADERS),
        "KLE\t15.17.06\t\t\t01-01-2020\t\t66 13 13 7\t\t\t\t",
        "KLE\t15.17.06\t\t\t31-02-2020\t\t\t\t\t\t",
    ]
    return ("\n".join(lines) + "\n").encode()


def _import(client: Client, content: bytes, name: str = "ark.tsv") -> str:
    response = client.post(
        reverse("admin:borgerblikket_sheetrow_import"),
        {"municipality": "461", "file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("language", "expected", "absent"),
    [
        (
            "en",
            [
                "&#x27;66 13 13 7&#x27; is not a phone number of 8 digits",
                "&#x27;31-02-2020&#x27; is not a valid date",
                "KLE-nr.: 15.17.06 is also on line 2",
            ],
            ["cifre", "gyldig dato", "står også i linje"],
        ),
        (
            "da",
            [
                "&#x27;66 13 13 7&#x27; er ikke et telefonnummer med 8 cifre",
                "&#x27;31-02-2020&#x27; er ikke en gyldig dato",
                "KLE-nr.: 15.17.06 står også i linje 2",
            ],
            ["8 digits", "valid date", "also on line"],
        ),
    ],
)
def test_the_import_preview_names_a_bad_lines_problems_in_the_admins_language(
    language, expected, absent
):
    f.municipality("461")
    page = _import(_client(language), _sheet())
    for text in expected:
        assert text in page
    for text in absent:
        assert text not in page


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Line 2: the file contains a NUL character; save it as text"),
        ("da", "Linje 2: filen indeholder et NUL-tegn; gem den som tekst"),
    ],
)
def test_a_refused_file_is_named_in_the_admins_language(language, expected):
    f.municipality("461")
    content = ("\t".join(HEADERS) + "\nKLE\t15.17.06\x00\n").encode()
    assert expected in _import(_client(language), content)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "KLE number 99.99.99 no longer exists in KLE"),
        ("da", "KLE-nummer 99.99.99 findes ikke længere i KLE"),
    ],
)
def test_a_refused_revert_is_named_in_the_admins_language(language, expected):
    odense = f.municipality("461")
    subject = f.kle_subject("32.24.04", "Hjælp til forsørgelse")
    _row, change = sheet_row_save(
        municipality=odense,
        kle_subject=subject,
        values={"show_from": dt.date(2020, 1, 1)},
        user=None,
    )
    # A change of a KLE number that KLE no longer has.
    SheetChange.objects.filter(pk=change.pk).update(kle_number="99.99.99")
    client = _client(language)
    response = client.post(
        reverse("admin:borgerblikket_sheetchange_revert", args=[change.pk]), follow=True
    )
    messages = [str(m) for m in response.context["messages"]]
    assert any(expected in m for m in messages), messages


def test_the_services_speak_the_active_language():
    """The messages are translated when raised, so a caller outside a request gets them too."""
    with translation.override("en"):
        with pytest.raises(ValueError, match="the processing time is at most 104 weeks"):
            validators.processing_time_parse("105 uger")
        with pytest.raises(SheetFileError, match="Unknown format 'ods'; use xlsx, csv or tsv"):
            sheet_file_rows(content=b"", file_format="ods")
        with pytest.raises(SheetError, match="Unknown fields"):
            sheet_row_save(
                municipality=f.municipality("461"),
                kle_subject=f.kle_subject("32.24.04", "Hjælp"),
                values={"nonsense": 1},
                user=None,
            )
    with translation.override("da"):
        with pytest.raises(ValueError, match="fristen er højst 104 uger"):
            validators.processing_time_parse("105 uger")
        with pytest.raises(SheetFileError, match="Ukendt format 'ods'; brug xlsx, csv eller tsv"):
            sheet_file_rows(content=b"", file_format="ods")


@pytest.mark.parametrize(
    ("language", "rejected", "refused"),
    [
        (
            "en",
            ["Line 2: 32.24 is not a KLE topic.", "Line 3: No unit."],
            'The header must name the columns "Enhed" and "KLE-nr."',
        ),
        (
            "da",
            ["Linje 2: 32.24 er ikke et KLE-emne.", "Linje 3: Ingen enhed."],
            'Overskriften skal navngive kolonnerne "Enhed" og "KLE-nr."',
        ),
    ],
)
def test_the_approved_kle_import_speaks_the_admins_language(language, rejected, refused):
    f.municipality("461")
    f.kle_subject("15.17.06", "Sygedagpengeopfølgning")
    client = _client(language)
    url = reverse("admin:borgerblikket_approvedklenumber_import")
    text = "Enhed;KLE-nr.\nBorgerservice;32.24\n;15.17.06\n"
    response = client.post(
        url,
        {"municipality": "461", "file": SimpleUploadedFile("liste.csv", text.encode())},
        follow=True,
    )
    shown = [str(m) for m in response.context["messages"]]
    assert shown[1:] == rejected
    response = client.post(
        url, {"municipality": "461", "file": SimpleUploadedFile("liste.csv", b"A;B\n1;2\n")}
    )
    assert response.context["form"].errors["file"] == [refused]
