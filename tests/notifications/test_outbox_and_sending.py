"""Notifications end to end without a worker: the outbox written with the change, one
message per citizen and window, the visibility rule at sending time, nothing personal in
what is sent, the real SMTP server and SMS gateway stand-ins, retries and bounces."""

import datetime as dt
import re

import pytest
from django.db import transaction
from django.utils import timezone

from indexes.models import NotificationEvent
from indexes.services.ingestion import record_apply
from overblik.models import NotificationMessage
from overblik.notifications.dispatch import (
    outbox_dispatch,
    reminders_write,
    send_after,
    sms_hours,
    window_end,
)
from overblik.notifications.sending import message_send
from tests.indexes.factories import SourceSystemFactory, case_payload, kle_ensure
from tests.notifications.helpers import EMAIL, MOBILE, due_message, kim_settings, personal_details
from tests.overblik import data as portal_data

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
Status = NotificationMessage.Status


@pytest.fixture
def data():
    return portal_data.build()


# --- the outbox ------------------------------------------------------------------------


def test_a_change_writes_its_outbox_event_in_the_same_transaction(settings):
    kle_ensure()
    system = SourceSystemFactory()
    record_apply(source_system=system, kind="case", payload=case_payload())
    events = list(NotificationEvent.objects.values_list("topic", "record_type"))
    assert events == [("status", "case")]

    # The change rolled back: no event either.
    with pytest.raises(RuntimeError), transaction.atomic():
        record_apply(source_system=system, kind="case", payload=case_payload())
        raise RuntimeError("the delivery failed")
    assert NotificationEvent.objects.count() == 1

    settings.OVERBLIK_NOTIFICATIONS_ENABLED = False
    record_apply(source_system=system, kind="case", payload=case_payload())
    assert NotificationEvent.objects.count() == 1


def test_a_case_that_starts_to_wait_for_the_citizen_is_an_awaiting_event():
    kle_ensure()
    system = SourceSystemFactory()
    payload = case_payload()
    record_apply(source_system=system, kind="case", payload=payload)
    NotificationEvent.objects.all().delete()
    payload |= {
        "source_timestamp": "2024-05-03T10:00:00+02:00",
        "awaiting_party_since": "2024-05-03T10:00:00+02:00",
        "awaiting_party_due": "2024-05-20",
        "awaiting_party_reason": "Send lønsedler",
    }
    record_apply(source_system=system, kind="case", payload=payload)
    assert list(NotificationEvent.objects.values_list("topic", flat=True)) == ["awaiting"]


# --- dispatch: one message per citizen, channel and window ------------------------------


def test_events_of_one_window_become_one_message_per_channel(data):
    settings = kim_settings()
    for case in data.cases:
        NotificationEvent.objects.create(topic="status", record_type="case", record_id=case.pk)
    NotificationEvent.objects.create(
        topic="document", record_type="document", record_id=data.visible_document.pk
    )
    now = timezone.now()
    assert outbox_dispatch(now=now) == 4
    assert NotificationEvent.objects.count() == 0
    messages = NotificationMessage.objects.filter(settings=settings)
    assert sorted(m.channel for m in messages) == ["email", "sms"]
    email = messages.get(channel="email")
    assert len(email.items) == 4
    assert email.send_after == send_after("email", now)
    # A later event of the same window joins the same message.
    NotificationEvent.objects.create(topic="status", record_type="case", record_id=data.cases[0].pk)
    outbox_dispatch(now=now + dt.timedelta(seconds=1))
    assert NotificationMessage.objects.filter(settings=settings).count() == 2
    email.refresh_from_db()
    assert len(email.items) == 5


def test_an_event_dispatched_after_its_window_was_sent_waits_for_the_next_window(data, outside):
    """The defect of a second message for one window: a dispatcher whose clock (or whose
    transaction, begun before the window closed) still says window W adds an event after
    W's message has left ``pending``. The partial unique index covered only pending
    messages, so a second message for W was created, already due, and sent at once.
    At most one message per citizen, channel and window, whatever its status."""
    mail, _ = outside
    settings = kim_settings(mobile="", mobile_confirmed_at=None)
    end = window_end(timezone.now())
    late_in_window = end - dt.timedelta(seconds=1)
    NotificationEvent.objects.create(topic="status", record_type="case", record_id=data.cases[0].pk)
    outbox_dispatch(now=late_in_window)
    first = NotificationMessage.objects.get(settings=settings)
    assert first.send_after == end
    assert message_send(first.pk, now=end + dt.timedelta(seconds=1)) == Status.SENT

    # The stale dispatcher: its "now" is still inside the window that was just sent.
    NotificationEvent.objects.create(topic="status", record_type="case", record_id=data.cases[1].pk)
    outbox_dispatch(now=late_in_window)
    for message in NotificationMessage.objects.filter(status=Status.PENDING, due_at__lte=end):
        message_send(message.pk, now=end + dt.timedelta(seconds=2))
    in_window = NotificationMessage.objects.filter(settings=settings, send_after=end)
    assert in_window.count() == 1
    assert len(mail.messages()) == 1
    # The late event is not lost: it waits in the next window's message.
    later = NotificationMessage.objects.get(settings=settings, status=Status.PENDING)
    assert later.send_after == send_after("email", end)
    assert later.items == [["status", "case", data.cases[1].pk]]


def test_a_topic_turned_off_a_pause_or_an_unconfirmed_address_queues_nothing(data):
    kim_settings(topic_status=False)
    NotificationEvent.objects.create(topic="status", record_type="case", record_id=data.cases[0].pk)
    outbox_dispatch()
    assert NotificationMessage.objects.count() == 0
    kim_settings(topic_status=True, paused=True)
    NotificationEvent.objects.create(topic="status", record_type="case", record_id=data.cases[0].pk)
    outbox_dispatch()
    assert NotificationMessage.objects.count() == 0
    kim_settings(paused=False, email_confirmed_at=None, mobile_confirmed_at=None)
    NotificationEvent.objects.create(topic="status", record_type="case", record_id=data.cases[0].pk)
    outbox_dispatch()
    assert NotificationMessage.objects.count() == 0
    # Another citizen's case never reaches Kim.
    kim_settings()
    NotificationEvent.objects.create(
        topic="status", record_type="case", record_id=data.others_case.pk
    )
    outbox_dispatch()
    assert NotificationMessage.objects.count() == 0


def test_sms_waits_for_the_morning_in_danish_time(settings):
    settings.OVERBLIK_NOTIFICATION_DIGEST_SECONDS = 3600
    evening = dt.datetime(2026, 12, 5, 21, 30, tzinfo=dt.UTC)  # 22:30 in Copenhagen
    assert send_after("email", evening) == dt.datetime(2026, 12, 5, 22, 0, tzinfo=dt.UTC)
    assert send_after("sms", evening) == dt.datetime(2026, 12, 6, 7, 0, tzinfo=dt.UTC)
    day = dt.datetime(2026, 7, 1, 10, 15, tzinfo=dt.UTC)  # 12:15 summer time
    assert send_after("sms", day) == dt.datetime(2026, 7, 1, 11, 0, tzinfo=dt.UTC)


def test_a_reminder_before_an_awaiting_deadline_is_written_once(data, settings):
    settings.OVERBLIK_NOTIFICATION_REMINDER_DAYS = 3
    today = timezone.localdate()
    case = data.awaiting_case
    case.awaiting_party_due = today + dt.timedelta(days=3)
    case.save(update_fields=["awaiting_party_due"])
    assert reminders_write(today=today) == 1
    assert reminders_write(today=today) == 0
    event = NotificationEvent.objects.get()
    assert (event.topic, event.record_id) == ("deadline", case.pk)


# --- sending ---------------------------------------------------------------------------


def test_the_mail_arrives_with_nothing_personal_text_html_and_one_click_unsubscribe(data, outside):
    mail, sms = outside
    settings = kim_settings()
    items = [
        ["status", "case", data.cases[0].pk],
        ["document", "document", data.visible_document.pk],
    ]
    email = due_message(settings, items=items)
    text = due_message(settings, channel="sms", items=items)
    assert message_send(email.pk) == Status.SENT
    # An SMS goes only in the SMS hours (08-20 Danish time): send it at their next opening.
    assert message_send(text.pk, now=sms_hours(timezone.now())) == Status.SENT
    [received] = mail.messages()
    assert received["to"] == [EMAIL]
    assert received["subject"] == "Der er nyt i en af dine sager på Mit Overblik"
    assert "/overblik/" in received["text"] and "<html" in received["html"]
    assert received["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(
        r"<(http://\S+/beskeder/afmeld/\S+/)>", received["headers"]["List-Unsubscribe"].strip()
    )
    assert unsubscribe, received["headers"]["List-Unsubscribe"]
    assert received["message_id"] == f"<{email.idempotency_key}@overblik.localhost>"
    [sent_sms] = sms.messages()
    assert sent_sms["to"] == f"+45{MOBILE}" and sent_sms["key"] == str(text.idempotency_key)
    everything = received["subject"] + received["text"] + received["html"] + sent_sms["text"]
    for detail in personal_details(data):
        assert detail not in everything, detail
    email.refresh_from_db()
    assert email.topics == ["document", "status"] and email.sent_at is not None


def test_english_settings_send_english(data, outside):
    mail, _ = outside
    settings = kim_settings(language="en")
    message_send(due_message(settings, items=[["status", "case", data.cases[0].pk]]).pk)
    [received] = mail.messages()
    assert received["subject"] == "There is news in one of your cases on Mit Overblik"


def test_a_change_to_a_hidden_case_sends_nothing(data, outside):
    mail, sms = outside
    settings = kim_settings()
    NotificationEvent.objects.create(
        topic="status", record_type="case", record_id=data.hidden_case.pk
    )
    NotificationEvent.objects.create(
        topic="status", record_type="case", record_id=data.unlisted_case.pk
    )
    NotificationEvent.objects.create(
        topic="document", record_type="document", record_id=data.journal_note.pk
    )
    outbox_dispatch()
    for message in NotificationMessage.objects.filter(settings=settings):
        assert (
            message_send(message.pk, now=message.due_at + dt.timedelta(seconds=1)) == Status.NOTHING
        )
    assert mail.messages() == [] and sms.messages() == []


def test_the_server_down_retries_with_backoff_and_then_sends_once(data, outside, settings):
    mail, _ = outside
    settings.OVERBLIK_NOTIFICATION_RETRY_BASE = 30
    message = due_message(kim_settings(), items=[["status", "case", data.cases[0].pk]])
    mail.stop()
    try:
        assert message_send(message.pk) == Status.PENDING
        message.refresh_from_db()
        assert message.attempts == 1 and message.last_error
        first_due = message.due_at
        assert first_due > timezone.now() + dt.timedelta(seconds=25)
        # Not due yet: not taken.
        assert message_send(message.pk) is None
        assert message_send(message.pk, now=first_due + dt.timedelta(seconds=1)) == Status.PENDING
        message.refresh_from_db()
        assert message.due_at - first_due > dt.timedelta(seconds=55)  # doubled
    finally:
        mail.start()
    assert message_send(message.pk, now=message.due_at + dt.timedelta(seconds=1)) == Status.SENT
    assert message_send(message.pk, now=message.due_at + dt.timedelta(seconds=2)) is None
    assert len(mail.messages()) == 1


def test_a_hard_bounce_stops_the_channel(data, outside):
    mail, sms = outside
    settings = kim_settings(email="bounce@example.dk", mobile="22990000")
    items = [["status", "case", data.cases[0].pk]]
    assert message_send(due_message(settings, items=items).pk) == Status.BOUNCED
    text = due_message(settings, channel="sms", items=items)
    assert message_send(text.pk, now=sms_hours(timezone.now())) == Status.BOUNCED
    settings.refresh_from_db()
    assert settings.email_bounced_at and settings.mobile_bounced_at
    assert not settings.channel_active("email") and not settings.channel_active("sms")
    NotificationEvent.objects.create(topic="status", record_type="case", record_id=data.cases[0].pk)
    outbox_dispatch()
    assert not NotificationMessage.objects.filter(status=Status.PENDING).exists()
    assert mail.messages() == [] and sms.messages() == []


def test_without_a_mail_server_configured_an_email_waits_and_is_not_marked_sent(data, settings):
    """Production without EMAIL_URL has no mail server (never a stand-in's): the message
    is deferred like one to a server that is down, not lost and not "sent"."""
    settings.EMAIL_URL = ""
    message = due_message(kim_settings(), items=[["status", "case", data.cases[0].pk]])
    assert message_send(message.pk) == Status.PENDING
    message.refresh_from_db()
    assert message.sent_at is None and "EMAIL_URL" in message.last_error
