"""The citizen's settings page: addresses confirmed with one-time codes through the real
stand-ins, topics, language, pause, a bounce said plainly, one-click unsubscribe."""

import re

import pytest
from django.utils import timezone

from overblik.models import NotificationSettings
from overblik.notifications.preferences import unsubscribe_token
from tests.notifications.helpers import EMAIL, KIM, MOBILE, kim_settings

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def code_in(text: str) -> str:
    return re.search(r"\b([0-9]{6})\b", text).group(1)


def test_email_and_mobile_each_confirmed_with_a_one_time_code(citizen_client, outside):
    mail, sms = outside
    page = citizen_client.get("/beskeder/")
    assert page.status_code == 200
    assert "Beskeder" in page.content.decode()

    answer = citizen_client.post("/beskeder/e-mail/", {"email": EMAIL})
    assert answer.status_code == 302
    [received] = mail.messages()
    code = code_in(received["text"])
    settings = NotificationSettings.objects.get()
    assert settings.email == "" and settings.email_pending == EMAIL
    assert code not in settings.email_code  # kept only as a keyed hash

    wrong = "000000" if code != "000000" else "111111"
    answer = citizen_client.post("/beskeder/e-mail/bekraeft/", {"email-code": wrong})
    assert answer.status_code == 400
    assert "Koden er forkert." in answer.content.decode()
    answer = citizen_client.post("/beskeder/e-mail/bekraeft/", {"email-code": code})
    assert answer.status_code == 302
    settings.refresh_from_db()
    assert settings.email == EMAIL and settings.channel_active("email")

    citizen_client.post("/beskeder/mobil/", {"mobile": "+45 22 33 44 55"})
    [text] = sms.messages()
    assert text["to"] == f"+45{MOBILE}"
    citizen_client.post("/beskeder/mobil/bekraeft/", {"mobile-code": code_in(text["text"])})
    settings.refresh_from_db()
    assert settings.mobile == MOBILE and settings.channel_active("sms")
    # The settings are not keyed by the CPR number, and no page shows it.
    assert KIM.cpr not in str(settings.pk)
    assert KIM.cpr not in citizen_client.get("/beskeder/").content.decode()


@pytest.mark.parametrize(
    ("url", "data", "message"),
    [
        ("/beskeder/e-mail/", {"email": "ikke en adresse"}, "E-mailadressen er ikke gyldig"),
        ("/beskeder/mobil/", {"mobile": "1234"}, "dansk nummer med 8 cifre"),
        ("/beskeder/e-mail/bekraeft/", {"email-code": "12"}, "Koden er 6 cifre"),
        ("/beskeder/indstillinger/", {"language": "xx"}, "Vælg sproget i beskederne"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(citizen_client, url, data, message):
    answer = citizen_client.post(url, data)
    assert answer.status_code == 400
    assert message in answer.content.decode()
    assert 'aria-invalid="true"' in answer.content.decode() or "form-error-message" in (
        answer.content.decode()
    )


def test_topics_language_and_pause_are_saved(citizen_client):
    answer = citizen_client.post(
        "/beskeder/indstillinger/",
        {"topics": ["status", "payment"], "language": "en", "paused": "on"},
    )
    assert answer.status_code == 302
    settings = NotificationSettings.objects.get()
    assert (settings.topic_status, settings.topic_payment) == (True, True)
    assert (settings.topic_awaiting, settings.topic_deadline, settings.topic_document) == (
        False,
        False,
        False,
    )
    assert settings.language == "en" and settings.paused


def test_a_bounce_is_said_on_the_settings_page(citizen_client):
    kim_settings(email_bounced_at=timezone.now())
    page = citizen_client.get("/beskeder/").content.decode()
    assert 'data-testid="email-bounced"' in page
    assert "afviste vores besked" in page


def test_one_click_unsubscribe_rfc_8058(client, db):
    settings = kim_settings()
    token = unsubscribe_token(settings_id=settings.pk, channel="email")
    # A link scanner's GET changes nothing.
    assert client.get(f"/beskeder/afmeld/{token}/").status_code == 200
    settings.refresh_from_db()
    assert settings.channel_active("email")
    answer = client.post(f"/beskeder/afmeld/{token}/", {"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    settings.refresh_from_db()
    assert not settings.channel_active("email") and settings.channel_active("sms")
    assert (
        client.post("/beskeder/afmeld/forged/", {"List-Unsubscribe": "One-Click"}).status_code
        == 400
    )


def test_a_get_of_a_form_target_goes_back_to_the_settings_page(citizen_client):
    for url in ("/beskeder/e-mail/", "/beskeder/mobil/bekraeft/", "/beskeder/indstillinger/"):
        answer = citizen_client.get(url)
        assert (answer.status_code, answer["Location"]) == (302, "/beskeder/")
