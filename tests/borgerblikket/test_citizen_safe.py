"""The door masks CPR-shaped numbers however its results are read (issue 12.3).

Pages read the proxies as instances; code may also call ``values()``,
``values_list()``, ``first()`` or ``iterator()`` on what the door returns — every
path comes out masked, and the index keeps what the source system delivered.
"""

import pytest

from borgerblikket import selectors
from borgerblikket.models import TitleSource
from indexes.masking import cpr_masked
from indexes.models import Case
from tests.borgerblikket import factories as f

pytestmark = [pytest.mark.django_db]

CPR = "0101701111"
NUMBER = "010170-1234"
MASKED = "010170-****"


@pytest.fixture
def case():
    f.sheet("461", title_source=TitleSource.CASE)
    f.SheetRowFactory()
    return f.CaseFactory(
        party_cpr=CPR, title=f"Afgørelse vedr. barn {NUMBER}", case_number=f"S {NUMBER}"
    )


def test_every_way_of_reading_the_door_is_masked(case):
    cases = selectors.cases_visible_to_citizen(cpr=CPR)
    instance = cases.get()
    assert instance.display_title == f"Afgørelse vedr. barn {MASKED}"
    assert instance.case_number == f"S {MASKED}"
    assert cases.first().display_title == instance.display_title
    assert next(cases.iterator()).case_number == f"S {MASKED}"
    assert list(cases.values_list("display_title", flat=True)) == [instance.display_title]
    assert list(cases.values("case_number")) == [{"case_number": f"S {MASKED}"}]
    assert cases.values_list("pk", "case_number", named=True).get().case_number == (f"S {MASKED}")
    assert selectors.case_visible_to_citizen(cpr=CPR, case_id=case.pk).display_title == (
        instance.display_title
    )


def test_the_index_keeps_what_was_delivered(case):
    list(selectors.cases_visible_to_citizen(cpr=CPR))
    assert Case.objects.get(pk=case.pk).title == f"Afgørelse vedr. barn {NUMBER}"


def test_the_door_still_counts_and_filters_by_the_real_values(case):
    """Masking happens on the way out; filters and counts run on the database's values."""
    cases = selectors.cases_visible_to_citizen(cpr=CPR)
    assert cases.filter(case_number=f"S {NUMBER}").count() == 1
    assert cases.filter(case_number=f"S {MASKED}").count() == 0


def test_masking_values_of_every_shape():
    assert cpr_masked({"a": [NUMBER, (NUMBER, 3)]}) == {"a": [MASKED, (MASKED, 3)]}
    assert cpr_masked(None) is None and cpr_masked(17) == 17
