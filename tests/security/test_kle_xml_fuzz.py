"""The KLE importer against damaged and hostile files: a clean refusal or a whole import.

tests/kle/test_xml_safety.py proves the fixed attacks (billion laughs, XXE to a
file and to the network, a DOCTYPE hidden by UTF-16); tests/kle/test_invalid_files.py
the named mistakes. Here the fixture file is damaged at random places (bytes
cut, repeated, replaced; hostile constructs inserted). Every outcome must be
either a full import or ``KleImportError`` with nothing written; no other
exception, no file or URL read, no entity expanded.
"""

from pathlib import Path

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kle.models import Facet, Publication, Subject
from kle.services.documents import kle_document_parse
from kle.services.errors import KleImportError
from kle.services.importer import kle_import

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = (ROOT / "kle" / "fixtures" / "KLE-Emneplan_fixture.xml").read_bytes()
SECRET = "TOP-SECRET-CONTENT"

HOSTILE = [
    b'<!DOCTYPE KLE-Emneplan [<!ENTITY xxe SYSTEM "{secret}">]>',
    b'<!DOCTYPE KLE-Emneplan SYSTEM "{secret}">',
    b'<!ENTITY lol "lol">',
    b"&xxe;",
    b"&lol;&amp;&#0;&#x110000;",
    b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{secret}" parse="text"/>',
    b'<?xml-stylesheet type="text/xsl" href="{secret}"?>',
    b"<![CDATA[<HovedgruppeNr>99</HovedgruppeNr>]]>",
    b"\x00",
    b"\xff\xfe",
    b"\xc3\x28",
    b"<Hovedgruppe>",
    b"</KLE-Emneplan>",
    b"<!--",
]


def _mutate(data, secret_uri: str) -> bytes:
    body = FIXTURE
    start = data.draw(st.integers(0, len(body) - 1), label="start")
    end = data.draw(st.integers(start, min(len(body), start + 64)), label="end")
    kind = data.draw(st.sampled_from(["cut", "repeat", "replace", "hostile"]), label="kind")
    if kind == "cut":
        return body[:start] + body[end:]
    if kind == "repeat":
        return body[:end] + body[start:end] + body[end:]
    if kind == "replace":
        return body[:start] + data.draw(st.binary(max_size=16), label="bytes") + body[end:]
    hostile = data.draw(st.sampled_from(HOSTILE), label="hostile")
    return body[:start] + hostile.replace(b"{secret}", secret_uri.encode()) + body[start:]


def _written():
    return Subject.objects.count(), Facet.objects.count(), Publication.objects.count()


@settings(max_examples=150, deadline=None, database=None)
@given(data=st.data())
def test_a_damaged_file_parses_or_is_refused_naming_a_problem(data, tmp_path_factory):
    secret = tmp_path_factory.getbasetemp() / "secret.txt"
    secret.write_text(SECRET)
    damaged = _mutate(data, secret.as_uri())
    try:
        kle_document_parse(data=damaged, source="fuzz.xml")
    except KleImportError as exc:
        assert exc.problems and SECRET not in str(exc)


@pytest.mark.django_db
@settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_damaged_file_is_imported_whole_or_not_at_all(data, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    path = tmp_path / "damaged.xml"
    path.write_bytes(_mutate(data, secret.as_uri()))
    # Each example in a savepoint of its own, rolled back: every one starts empty.
    with transaction.atomic():
        before = _written()
        try:
            report = kle_import(source=str(path), allow_older=True)
        except KleImportError as exc:
            assert exc.problems and SECRET not in str(exc)
            assert _written() == before
        else:
            assert Subject.objects.count() == report.items
        assert not Subject.objects.filter(title__contains=SECRET).exists()
        transaction.set_rollback(True)
