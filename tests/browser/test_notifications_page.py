"""In a real Chromium: the citizen signs up for e-mail with the code from the local SMTP
server, then the page is read at 375 px in Danish and English, axe-clean (issue 14)."""

import re

import pytest

from tests.browser.conftest import assert_accessible, assert_fits, login
from tests.overblik import data as portal_data

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.postgres,
]


def test_sign_up_for_email_with_a_code_on_a_phone_axe_clean(new_page, portal, outside):
    mail, _ = outside
    portal_data.build()
    page = new_page(width=375, height=667)
    login(page, portal)
    page.goto(f"{portal}/beskeder/")
    assert_accessible(page)
    assert_fits(page, 375, "beskeder")
    page.get_by_label("E-mailadresse").fill("kim@example.dk")
    page.get_by_role("button", name="Send kode til e-mail").click()
    [received] = mail.messages()
    code = re.search(r"\b([0-9]{6})\b", received["text"]).group(1)
    page.get_by_label("Kode").fill(code)
    page.get_by_role("button", name="Bekræft e-mail").click()
    page.get_by_test_id("email-active").wait_for()
    assert "kim@example.dk" in page.get_by_test_id("email-active").inner_text()
    assert_accessible(page)
    # A bad address is an error named at its field, also axe-clean.
    page.get_by_label("E-mailadresse").fill("ikke-en-adresse")
    page.get_by_role("button", name="Send kode til e-mail").click()
    assert "E-mailadressen er ikke gyldig" in page.content()
    assert_accessible(page)
    page.get_by_role("button", name="English").click()
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.get_by_role("heading", level=1).inner_text() == "Messages"
    assert_accessible(page)
    assert_fits(page, 375, "beskeder-en")
