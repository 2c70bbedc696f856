"""Usage counting and the satisfaction prompt on the citizen pages (issue 16).

Logins and data pages add to counters per month, municipality, KLE main group and page
kind; nothing says who. The prompt "Var du tilfreds med dit besøg på Mit Overblik?"
(seed 002) comes once per session, on the data page after the first, and works as a
plain form (no JavaScript); tests/browser/test_satisfaction.py tries "Nej tak" with it.
"""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from borgerblikket.models import SatisfactionAnswer, UsageCount
from indexes.models import Case
from overblik.models import Citizen
from overblik.satisfaction import COOKIE
from tests.overblik import data as portal_data
from tests.overblik.test_acting import act_for_kim
from tests.plugins.portal import oidc_login

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

KIM = portal_data.KIM
PROMPT = 'data-testid="satisfaction-prompt"'
THANKS = 'data-testid="satisfaction-thanks"'


def _month():
    return timezone.localdate().replace(day=1)


def _counts(kind):
    return {
        (r.municipality_code, r.main_group, r.on_behalf): r.count
        for r in UsageCount.objects.filter(page_kind=kind, month=_month())
    }


@pytest.fixture
def kim(client, oidc_settings):
    portal_data.build()
    assert oidc_login(client, sub="demo-kim").status_code == 302
    return client


def _token(text: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text).group(1)


# --- counting --------------------------------------------------------------------------------


def test_a_login_counts_for_each_municipality_and_main_group_of_the_citizen_s_data(kim):
    # Kim: cash benefit cases (32) in Odense (461), cleaning help (27) in Copenhagen (101).
    assert _counts(UsageCount.PageKind.LOGIN) == {
        ("101", "", False): 1,
        ("101", "27", False): 1,
        ("461", "", False): 1,
        ("461", "32", False): 1,
    }


def test_a_page_counts_once_per_municipality_shown(kim):
    kim.get(reverse("overblik:overview"))
    kim.get(reverse("overblik:overview"))
    overview = _counts(UsageCount.PageKind.OVERVIEW)
    assert overview[("461", "", False)] == 2 and overview[("101", "", False)] == 2
    assert overview[("461", "32", False)] == 2
    kim.get(reverse("overblik:cases") + "?vis=aabne")
    cases = _counts(UsageCount.PageKind.CASES)
    assert cases[("461", "", False)] == 1 and cases[("461", "32", False)] == 1


def test_a_case_page_counts_for_its_own_municipality_only(kim):
    case = Case.objects.filter(
        party_cpr=KIM.cpr, municipality="461", hidden_from_citizen=False, retracted_at=None
    ).first()
    assert kim.get(reverse("overblik:case", args=[case.pk])).status_code == 200
    assert _counts(UsageCount.PageKind.CASE) == {("461", "", False): 1, ("461", "32", False): 1}


def test_a_page_seen_for_someone_else_counts_as_on_behalf(client, oidc_settings, relations):
    relations.powers[0]["scope"] = ["27.24"]
    portal_data.build()
    assert oidc_login(client, sub="demo-sofie").status_code == 302
    act_for_kim(client)
    client.get(reverse("overblik:services"))
    # Only the power's area (Copenhagen's cleaning help), marked as seen for someone else.
    assert _counts(UsageCount.PageKind.SERVICES) == {("101", "", True): 1, ("101", "27", True): 1}


def test_the_own_access_log_seen_while_acting_is_not_on_behalf(client, oidc_settings, relations):
    portal_data.build()
    assert oidc_login(client, sub="demo-sofie").status_code == 302
    act_for_kim(client)
    client.get(reverse("overblik:access-log"))
    assert _counts(UsageCount.PageKind.ACCESS_LOG) == {("", "", False): 1}


def test_a_404_counts_nothing(kim):
    before = UsageCount.objects.filter(page_kind=UsageCount.PageKind.CASE).count()
    assert kim.get(reverse("overblik:case", args=[999999])).status_code == 404
    assert UsageCount.objects.filter(page_kind=UsageCount.PageKind.CASE).count() == before


def test_nothing_stored_names_the_citizen(kim):
    for name in ("overview", "cases", "benefits", "services", "access-log"):
        kim.get(reverse(f"overblik:{name}"))
    page = kim.get(reverse("overblik:cases")).content.decode()
    kim.post(
        reverse("overblik:satisfaction"),
        {"csrfmiddlewaretoken": _token(page), "svar": "4", "kommentar": f"Jeg er {KIM.cpr}"},
    )
    citizen = Citizen.objects.get()
    # (The citizen's and user's ids are small numbers like the counts: the field test of
    # tests/borgerblikket/test_usage_counting.py shows there is no column for them.)
    identities = {KIM.cpr, KIM.cpr[:6], citizen.cpr_digest, KIM.sub, KIM.name}
    values = [str(v) for row in UsageCount.objects.values_list() for v in row]
    values += [str(v) for row in SatisfactionAnswer.objects.values_list() for v in row]
    assert SatisfactionAnswer.objects.count() == 1
    leaked = [v for v in values for identity in identities if identity and identity in v]
    assert leaked == []


# --- the satisfaction prompt ---------------------------------------------------------------


def test_the_prompt_comes_once_on_the_data_page_after_the_first(kim):
    first = kim.get(reverse("overblik:overview")).content.decode()
    assert PROMPT not in first
    second = kim.get(reverse("overblik:cases")).content.decode()
    assert PROMPT in second
    assert "Var du tilfreds med dit besøg på Mit Overblik?" in second
    assert f'action="{reverse("overblik:satisfaction")}"' in second
    assert 'name="csrfmiddlewaretoken"' in second
    third = kim.get(reverse("overblik:benefits")).content.decode()
    assert PROMPT not in third


def test_answering_without_javascript_stores_an_anonymous_answer_and_thanks_once(kim):
    kim.get(reverse("overblik:overview"))
    page = kim.get(reverse("overblik:cases") + "?vis=aabne").content.decode()
    response = kim.post(
        reverse("overblik:satisfaction"),
        {
            "csrfmiddlewaretoken": _token(page),
            "svar": "5",
            "kommentar": "Godt overblik. Min søns cpr 010203-1234 står forkert",
            "next": reverse("overblik:cases") + "?vis=aabne",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("overblik:cases") + "?vis=aabne"
    answer = SatisfactionAnswer.objects.get()
    assert answer.answer == 5 and answer.month == _month()
    assert answer.comment == "Godt overblik. Min søns cpr [CPR-nr.] står forkert"
    # Kim's data comes from two municipalities: the answer names none.
    assert answer.municipality_code == ""
    thanked = kim.get(response["Location"]).content.decode()
    assert THANKS in thanked and PROMPT not in thanked
    assert THANKS not in kim.get(reverse("overblik:overview")).content.decode()
    # One answer per session: a second post changes nothing.
    again = kim.post(reverse("overblik:satisfaction"), {"svar": "1"})
    assert again.status_code == 302 and SatisfactionAnswer.objects.count() == 1


def test_no_thanks_without_javascript_hides_the_prompt_and_stores_nothing(kim):
    kim.get(reverse("overblik:overview"))
    kim.get(reverse("overblik:cases"))
    response = kim.post(
        reverse("overblik:satisfaction"),
        {"nej-tak": "1", "next": reverse("overblik:cases")},
    )
    assert response.status_code == 302 and response["Location"] == reverse("overblik:cases")
    assert not SatisfactionAnswer.objects.exists()
    for name in ("overview", "cases", "services"):
        text = kim.get(reverse(f"overblik:{name}")).content.decode()
        assert PROMPT not in text and THANKS not in text
    assert kim.post(reverse("overblik:satisfaction"), {"svar": "3"}).status_code == 302
    assert not SatisfactionAnswer.objects.exists()


def test_an_answer_with_errors_comes_back_in_danish_with_the_fields_marked(kim):
    kim.get(reverse("overblik:overview"))
    kim.get(reverse("overblik:cases"))
    response = kim.post(reverse("overblik:satisfaction"), {"kommentar": "x" * 501})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Dit svar blev ikke sendt" in text
    assert "Vælg, hvor tilfreds du var." in text
    assert "Kommentaren må højst være 500 tegn." in text
    assert 'aria-invalid="true"' in text
    assert not SatisfactionAnswer.objects.exists()
    # Corrected, it goes through.
    fixed = kim.post(reverse("overblik:satisfaction"), {"svar": "2", "kommentar": "x" * 500})
    assert fixed.status_code == 302 and SatisfactionAnswer.objects.get().answer == 2


def test_the_answer_goes_back_only_to_a_page_of_the_portal(kim):
    kim.get(reverse("overblik:overview"))
    kim.get(reverse("overblik:cases"))
    response = kim.post(
        reverse("overblik:satisfaction"), {"nej-tak": "1", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("overblik:overview")


def test_the_prompt_needs_a_csrf_token(oidc_settings):
    portal_data.build()
    client = Client(enforce_csrf_checks=True)
    assert oidc_login(client, sub="demo-kim").status_code == 302
    client.get(reverse("overblik:overview"))
    page = client.get(reverse("overblik:cases")).content.decode()
    assert client.post(reverse("overblik:satisfaction"), {"svar": "4"}).status_code == 403
    ok = client.post(
        reverse("overblik:satisfaction"), {"svar": "4", "csrfmiddlewaretoken": _token(page)}
    )
    assert ok.status_code == 302 and SatisfactionAnswer.objects.count() == 1


def test_the_prompt_s_step_is_bound_to_the_session(kim, client):
    kim.get(reverse("overblik:overview"))
    kim.get(reverse("overblik:cases"))  # the prompt was shown
    step = kim.cookies[COOKIE].value
    # The same cookie in another session is worth nothing: a fresh login starts over.
    other = Client()
    assert oidc_login(other, sub="demo-kim").status_code == 302
    other.cookies[COOKIE] = step
    assert other.post(reverse("overblik:satisfaction"), {"svar": "4"}).status_code == 302
    assert not SatisfactionAnswer.objects.exists()
    assert KIM.cpr not in step


def test_the_answer_is_post_only_and_for_logged_in_citizens(db):
    anonymous = Client()
    assert anonymous.get(reverse("overblik:satisfaction")).status_code == 405
    # A session that ran out while the prompt was shown: log in, then back to the page.
    response = anonymous.post(reverse("overblik:satisfaction"), {"svar": "4", "next": "/sager/"})
    assert response.status_code == 302
    assert response["Location"] == reverse("overblik:login") + "?next=/sager/"
    assert not SatisfactionAnswer.objects.exists()


def test_no_thanks_in_the_background_answers_204_and_ends_the_prompt(kim):
    """What the prompt's script posts: no page back (the page is not loaded or counted
    again), only the session's step."""
    kim.get(reverse("overblik:overview"))
    kim.get(reverse("overblik:cases"))
    views = sum(UsageCount.objects.values_list("count", flat=True))
    response = kim.post(reverse("overblik:satisfaction"), {"nej-tak": "1", "baggrund": "1"})
    assert response.status_code == 204 and response.content == b""
    assert sum(UsageCount.objects.values_list("count", flat=True)) == views
    assert PROMPT not in kim.get(reverse("overblik:cases")).content.decode()
    assert kim.post(reverse("overblik:satisfaction"), {"svar": "5"}).status_code == 302
    assert not SatisfactionAnswer.objects.exists()
