"""A single document can be "Visning undtaget for borger" (SF1470, issue 11.2).

Before, the field did not exist: a municipality could only hide a letter by retyping
it, and its title was shown on the case page.
"""

import datetime as dt

import pytest
from django.urls import reverse

from borgerblikket import selectors
from indexes.models import Change, Document
from indexes.selectors import record_get, record_to_payload
from indexes.services.errors import RecordRejected
from indexes.services.ingestion import record_apply
from tests.borgerblikket import factories as f
from tests.indexes.factories import case_payload, document_payload, kle_ensure
from tests.overblik.data import KIM

pytestmark = [pytest.mark.django_db]

SECRET = "Psykologisk undersøgelse af borgeren"
T2 = "2024-06-01T10:00:00+02:00"


@pytest.fixture
def case(db):
    kle_ensure("32.18.02")
    system = f.SourceSystemFactory(name="SBSYS", product="SBSYS")
    f.SheetRowFactory(kle_subject=f.kle_subject("32.18.02"), show_from=dt.date(2020, 1, 1))
    f.sheet("461", show_document_titles=True)
    record_apply(
        source_system=system,
        kind="case",
        payload=case_payload(external_id="c-1", party={"cpr": KIM.cpr}),
    )
    return system


def deliver(system, **over):
    payload = document_payload(case_external_ids=["c-1"], external_id="d-1", title=SECRET) | over
    return record_apply(source_system=system, kind="document", payload=payload)


def titles():
    case = selectors.cases_visible_to_citizen(cpr=KIM.cpr).get()
    return [d.title for d in selectors.documents_visible_for_case(cpr=KIM.cpr, case=case)]


def test_a_hidden_document_is_not_shown_and_the_flag_is_kept_with_its_history(case):
    deliver(case, hidden_from_citizen=True)
    assert titles() == []
    stored = record_get(source_system=case, kind="document", external_id="d-1")
    assert record_to_payload(kind="document", instance=stored)["hidden_from_citizen"] is True
    shown = deliver(case, hidden_from_citizen=False, source_timestamp=T2)
    assert titles() == [SECRET]
    change = Change.objects.get(record_type="document", version=shown.version)
    assert change.diff["hidden_from_citizen"] == [True, False]


def test_the_flag_defaults_to_shown_and_must_be_a_boolean(case):
    deliver(case)
    assert Document.objects.get().hidden_from_citizen is False
    with pytest.raises(RecordRejected) as rejected:
        deliver(case, hidden_from_citizen="maybe", source_timestamp=T2)
    assert [p.pointer for p in rejected.value.problems] == ["/hidden_from_citizen"]


def test_its_title_never_appears_on_the_citizens_pages(citizen_client, case):
    deliver(case, hidden_from_citizen=True)
    deliver(
        case,
        external_id="d-2",
        title="Afgørelse om hjælp",
        cases=[{"case_external_id": "c-1", "role": "Tilakteret"}],
    )
    case_id = selectors.cases_visible_to_citizen(cpr=KIM.cpr).get().pk
    for url in (
        reverse("overblik:overview"),
        reverse("overblik:cases"),
        reverse("overblik:case", args=[case_id]),
    ):
        page = citizen_client.get(url).content.decode()
        assert SECRET not in page, url
    assert (
        "Afgørelse om hjælp"
        in citizen_client.get(reverse("overblik:case", args=[case_id])).content.decode()
    )
