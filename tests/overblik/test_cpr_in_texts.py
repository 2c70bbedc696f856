"""A CPR number a source system or a sheet put in a text is never shown to a citizen.

Issue 12.3: Syddjurs' SBSYS delivered a case for Hans titled "Afgørelse om
tilskud vedr. barn 010170-1234" and his case page (also its ``<title>``),
``/sager/`` and ``/overblik/`` showed the child's number. The door
(``borgerblikket.selectors``) masks every CPR-shaped number (config/cpr_shape.py)
in every text it returns, so no page can show one. The property: whatever
citizen-visible field holds a CPR-shaped number, no page the citizen can open
shows it — in the body or the ``<title>``. Runs on PostgreSQL and on SQLite
(tests/test_sqlite.py).
"""

import datetime as dt
import html
import json
import re

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from borgerblikket.models import SheetRow, TitleSource
from indexes.models import Case, DataAccess, PaymentPlan, SourceSystem
from kle.models import Subject
from tests.borgerblikket import factories as f
from tests.indexes.api_support import case_record, client_for, kle_minimal, municipality_ensure
from tests.overblik import data as portal_data
from tests.plugins.portal import oidc_login

pytestmark = [pytest.mark.django_db]

SEPARATORS = ["", "-", " ", "\u00a0", "\u2013"]
WORDS = st.text(
    st.characters(whitelist_categories=["Lu", "Ll"], whitelist_characters=" .,æøåÆØÅ"),
    max_size=20,
)


@pytest.fixture
def data(db):
    return portal_data.build()


def _fields(data) -> dict:
    """Every citizen-visible text of Kim's records: name → (object, field)."""
    row = SheetRow.objects.get(municipality="461", kle_subject=data.cases[0].kle_subject)
    plan = PaymentPlan.objects.get(benefit=data.economic)
    access = DataAccess.objects.filter(citizen_cpr=portal_data.KIM.cpr).first()
    fields = {
        "case title": (data.cases[0], "title"),
        "case number": (data.cases[0], "case_number"),
        "wait reason": (data.awaiting_case, "awaiting_party_reason"),
        "document title": (data.visible_document, "title"),
        "payment office": (data.payments[0], "paying_office"),
        "plan frequency": (plan, "frequency"),
        "plan payment day": (plan, "payment_day"),
    }
    for benefit in ("economic", "service"):
        for name in ("name", "description", "message", "delivered_by", "granted_by"):
            fields[f"{benefit} {name}"] = (getattr(data, benefit), name)
    for name in ("display_name", "contact_department", "self_service_name"):
        fields[f"sheet {name}"] = (row, name)
    for name in ("info_url", "digital_post_url", "self_service_url"):
        fields[f"sheet {name}"] = (row, name)
    for name in ("subject", "detail"):
        fields[f"access {name}"] = (access, name)
    return fields


def _pages(data) -> list[str]:
    return [
        reverse("overblik:overview"),
        reverse("overblik:cases"),
        reverse("overblik:case", args=[data.cases[0].pk]),
        reverse("overblik:case", args=[data.awaiting_case.pk]),
        reverse("overblik:benefits"),
        reverse("overblik:services"),
        reverse("overblik:service", args=[data.service.pk]),
        reverse("overblik:access-log"),
    ]


def _forms(number: str, separator: str) -> set[str]:
    digits = number.replace(separator, "") if separator else number
    return {number, digits, f"{digits[:6]}-{digits[6:]}", f"{digits[:6]} {digits[6:]}"}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    day=st.dates(dt.date(1900, 1, 1), dt.date(2036, 12, 31)),
    serial=st.integers(0, 9999),
    separator=st.sampled_from(SEPARATORS),
    before=WORDS,
    after=WORDS,
    choice=st.integers(min_value=0),
)
def test_no_page_shows_a_cpr_number_from_any_text(
    citizen_client, data, day, serial, separator, before, after, choice
):
    fields = _fields(data)
    name = sorted(fields)[choice % len(fields)]
    obj, field = fields[name]
    number = f"{day:%d%m}{day.year % 100:02d}{separator}{serial:04d}"
    value = f"{before} {number} {after}".strip()
    if field.endswith("_url"):
        value = f"https://kommune.example/?id={number}"
    setattr(obj, field, value[: obj._meta.get_field(field).max_length or 255])
    obj.save(update_fields=[field])

    for url in _pages(data):
        response = citizen_client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        page = html.unescape(response.content.decode())
        title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
        for form in _forms(number, separator):
            assert form not in title, (name, url)
            assert form not in page, (name, url)


def test_hans_case_from_syddjurs_sbsys_shows_the_childs_number_masked(client, oidc_settings):
    """The attack of issue 12.3, through the API as Syddjurs' SBSYS, then as Hans."""
    kle_minimal()
    syddjurs = municipality_ensure("706")
    f.sheet("706", title_source=TitleSource.CASE)
    f.SheetRowFactory(municipality=syddjurs, kle_subject=Subject.objects.get(number="15.62.10"))
    sbsys = SourceSystem.objects.create(municipality=syddjurs, product="SBSYS", name="SBSYS")
    record = case_record(
        "sbsys-1",
        municipality="706",
        title="Afgørelse om tilskud vedr. barn 010170-1234",
        cpr=portal_data.HANS.cpr,
    )
    response = client_for(sbsys).put(
        "/api/v1/cases/sbsys-1", data=json.dumps(record), content_type="application/json"
    )
    assert response.status_code == 201, response.content

    oidc_login(client, sub="demo-hans")
    case = Case.objects.get(external_id="sbsys-1")
    for url in (
        reverse("overblik:overview"),
        reverse("overblik:cases"),
        reverse("overblik:case", args=[case.pk]),
    ):
        page = client.get(url).content.decode()
        assert "Afgørelse om tilskud vedr. barn 010170-****" in page, url
        assert "010170-1234" not in page and "0101701234" not in page, url
    title = re.search(r"<title>(.*?)</title>", page).group(1)
    assert title.startswith("Afgørelse om tilskud vedr. barn 010170-****")
