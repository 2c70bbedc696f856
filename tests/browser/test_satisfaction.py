"""In a real Chromium: the prompt "Var du tilfreds med dit besøg på Mit Overblik?" (issue 16).

It comes on the data page after the first, is accessible (axe) and whole at 375 px;
"Nej tak" hides it in place with JavaScript and by a plain form post without; an answer
is stored without identity and thanked for once.
"""

import re

import pytest

from borgerblikket.models import SatisfactionAnswer
from overblik.satisfaction import COOKIE
from tests.browser.conftest import assert_accessible, assert_fits, login, screenshot
from tests.overblik import data as portal_data

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.postgres,
]

QUESTION = "Var du tilfreds med dit besøg på Mit Overblik?"


def _step(page) -> str:
    cookie = next(c for c in page.context.cookies() if c["name"] == COOKIE)
    return cookie["value"].split(":")[0]


@pytest.mark.parametrize("width", [1280, 375])
def test_no_thanks_hides_the_prompt_in_place(new_page, portal, width):
    portal_data.build()
    page = new_page(width=width)
    login(page, portal)  # lands on Overblik: the first data page, no prompt
    assert page.get_by_test_id("satisfaction-prompt").count() == 0
    page.goto(f"{portal}/sager/")
    prompt = page.get_by_test_id("satisfaction-prompt")
    assert prompt.is_visible()
    assert page.get_by_role("heading", name=QUESTION).is_visible()
    assert page.get_by_role("radio", name="Meget tilfreds").is_visible()
    assert_accessible(page)
    assert_fits(page, width, "satisfaction")
    screenshot(page, f"satisfaction-{width}")

    loads = []
    page.on("load", lambda _page: loads.append(page.url))
    with page.expect_response(re.compile(r"/tilfredshed/$")) as posted:
        page.get_by_role("button", name="Nej tak").click()
    assert posted.value.status == 204
    assert not prompt.is_visible()
    assert page.url == f"{portal}/sager/" and loads == []  # hidden in place, no reload
    assert _step(page) == "done"
    page.goto(f"{portal}/ydelser/")
    assert page.get_by_test_id("satisfaction-prompt").count() == 0
    assert not SatisfactionAnswer.objects.exists()


def test_no_thanks_without_javascript_is_a_plain_form_post(browser, portal):
    portal_data.build()
    context = browser.new_context(java_script_enabled=False, locale="da-DK")
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        login(page, portal)
        page.goto(f"{portal}/serviceydelser/")
        page.get_by_role("button", name="Nej tak").click()
        page.wait_for_url(re.compile(r"/serviceydelser/$"))
        assert page.get_by_test_id("satisfaction-prompt").count() == 0
        assert _step(page) == "done"
    finally:
        context.close()
    assert not SatisfactionAnswer.objects.exists()


def test_an_answer_is_stored_without_identity_and_thanked_for(new_page, portal):
    portal_data.build()
    page = new_page()
    login(page, portal)
    page.goto(f"{portal}/ydelser/")
    page.get_by_role("radio", name="Tilfreds", exact=True).check()
    page.get_by_label("Kommentar (frivillig)").fill(f"Fint. Mit nummer er {portal_data.KIM.cpr}")
    page.get_by_role("button", name="Send svar").click()
    page.wait_for_url(re.compile(r"/ydelser/$"))
    assert page.get_by_test_id("satisfaction-thanks").is_visible()
    assert page.get_by_test_id("satisfaction-prompt").count() == 0
    assert_accessible(page)
    answer = SatisfactionAnswer.objects.get()
    assert answer.answer == 4 and answer.comment == "Fint. Mit nummer er [CPR-nr.]"
    assert portal_data.KIM.cpr not in page.url
