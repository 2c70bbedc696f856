"""Hostile XML: no entity expansion, no DTD, no file or network access."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from lxml import etree

from kle.models import Subject
from kle.services.documents import kle_document_parse, safe_parser
from kle.services.errors import KleImportError
from kle.services.importer import kle_import

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
LAUGHS = "\n".join(
    [' <!ENTITY lol0 "lol">']
    + [f' <!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
)
BILLION_LAUGHS = f"""<?xml version="1.0" encoding="{{encoding}}"?>
<!DOCTYPE KLE-Emneplan [
{LAUGHS}
]>
<KLE-Emneplan><UdgivelsesDato>&lol9;</UdgivelsesDato></KLE-Emneplan>
"""


def _xxe(system_id: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE KLE-Emneplan [ <!ENTITY xxe SYSTEM "{system_id}"> ]>
<KLE-Emneplan><UdgivelsesDato>2015-08-01</UdgivelsesDato>
<Hovedgruppe><HovedgruppeNr>02</HovedgruppeNr><HovedgruppeTitel>&xxe;</HovedgruppeTitel>
</Hovedgruppe></KLE-Emneplan>
"""


@pytest.mark.parametrize("encoding", ["UTF-8", "UTF-16"])
def test_billion_laughs_is_rejected(encoding):
    data = BILLION_LAUGHS.format(encoding=encoding).encode(encoding)

    with pytest.raises(KleImportError) as caught:
        kle_document_parse(data=data, source="laughs.xml")

    message = str(caught.value)
    assert "DOCTYPE" in message or "amplification" in message
    assert "lollol" not in message


def test_billion_laughs_stays_within_a_small_memory_limit_in_a_child_process(tmp_path):
    """Fully expanded the entity is 3 GB; the child may use at most 1 GiB of address space."""
    path = tmp_path / "laughs.xml"
    path.write_bytes(BILLION_LAUGHS.format(encoding="UTF-16").encode("UTF-16"))
    script = textwrap.dedent(
        f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        import django
        django.setup()
        from kle.services.documents import kle_document_load
        from kle.services.errors import KleImportError
        try:
            kle_document_load(source={str(path)!r}, timeout=1)
        except KleImportError as exc:
            print("rejected:", exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "config.settings.test", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "rejected:" in result.stdout


def test_external_file_entity_is_neither_read_nor_imported(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    path = tmp_path / "xxe.xml"
    path.write_text(_xxe(secret.as_uri()))

    with pytest.raises(KleImportError) as caught:
        kle_import(source=str(path))

    assert "DOCTYPE" in str(caught.value)
    assert "TOP-SECRET" not in str(caught.value)
    assert not Subject.objects.exists()


def test_the_parser_itself_resolves_no_entities_and_fetches_nothing(tmp_path, http_server):
    """Even past the DOCTYPE check, the parser settings alone keep files and network closed."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    http_server.routes["/dtd"] = lambda path: (200, b'<!ENTITY remote "REMOTE-CONTENT">')
    for system_id in (secret.as_uri(), f"{http_server.base_url}/dtd"):
        root = etree.fromstring(_xxe(system_id).encode(), parser=safe_parser())
        title = root.find("Hovedgruppe/HovedgruppeTitel")
        assert "TOP-SECRET" not in etree.tostring(root, encoding="unicode")
        assert (title.text or "") == ""  # the &xxe; reference stays unexpanded

    assert http_server.requests == []


def test_a_doctype_the_byte_scan_cannot_see_is_rejected_after_parsing():
    # UTF-16 hides the "<!DOCTYPE" bytes from the pre-parse scan; docinfo still shows it.
    text = """<?xml version="1.0" encoding="UTF-16"?>
<!DOCTYPE KLE-Emneplan [ <!ENTITY name "Hegnssyn"> ]>
<KLE-Emneplan><UdgivelsesDato>2015-08-01</UdgivelsesDato></KLE-Emneplan>
"""

    with pytest.raises(KleImportError) as caught:
        kle_document_parse(data=text.encode("UTF-16"), source="utf16.xml")

    assert caught.value.problems[0].element == "!DOCTYPE"
