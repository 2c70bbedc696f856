"""The two channels: e-mail through Django's mail backend, SMS through a provider.

Both take an idempotency key. The e-mail's Message-ID is made from it, so a retry
after a worker died between the server's "250 OK" and the database's commit is the
same message (mail systems collapse equal Message-IDs; the local stand-in does); the
SMS provider gets it as the ``Idempotency-Key`` header and answers a repeat with the
first answer. Failures come out as two exceptions: ``Transient`` (try again later)
and ``HardBounce`` (this address or number does not exist: stop the channel).
"""

import smtplib
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils.module_loading import import_string


class Transient(Exception):
    """The server or gateway did not take the message now; try again later."""


class HardBounce(Exception):
    """The address or number was refused for good."""


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str
    headers: dict


def message_id(key: str) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ") or "overblik.localhost"
    return f"<{key}@{domain}>"


def email_send(email: Email, *, key: str) -> None:
    """Send one e-mail (text and HTML) through the configured backend, once per key."""
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to],
        headers={"Message-ID": message_id(key), **email.headers},
    )
    message.attach_alternative(email.html, "text/html")
    if not settings.EMAIL_URL:
        # No server configured (EMAIL_URL unset): the message waits, it is not "sent".
        raise Transient("no e-mail server configured (EMAIL_URL)")
    try:
        connection = get_connection(fail_silently=False)
        message.connection = connection
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(500 <= code < 600 for code in codes):
            raise HardBounce("recipient refused (5xx)") from exc
        raise Transient("recipient deferred (4xx)") from exc
    except smtplib.SMTPResponseException as exc:
        raise Transient(f"SMTP {exc.smtp_code}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise Transient(type(exc).__name__) from exc


class SmsProvider:
    """Sends one SMS; subclasses name a real provider (``OVERBLIK_SMS_PROVIDER``)."""

    def send(self, *, to: str, text: str, key: str) -> None:
        raise NotImplementedError


class NoSms(SmsProvider):
    """No SMS provider configured: a message to a number is not sent (and says so)."""

    def send(self, *, to: str, text: str, key: str) -> None:
        raise Transient("no SMS provider configured")


class HttpSms(SmsProvider):
    """A JSON-over-HTTP gateway: POST {to, from, text} with Idempotency-Key.

    200/201/202: taken; 409/422 with ``"error": "invalid_number"`` (or 404/410):
    the number does not exist (hard bounce); anything else or no answer: transient.
    """

    def send(self, *, to: str, text: str, key: str) -> None:
        headers = {"Idempotency-Key": key}
        if settings.OVERBLIK_SMS_TOKEN:
            headers["Authorization"] = f"Bearer {settings.OVERBLIK_SMS_TOKEN}"
        try:
            answer = requests.post(
                settings.OVERBLIK_SMS_URL,
                json={"to": f"+45{to}", "from": settings.OVERBLIK_SMS_SENDER, "text": text},
                headers=headers,
                timeout=settings.OVERBLIK_SMS_TIMEOUT,
            )
        except requests.RequestException as exc:
            raise Transient(type(exc).__name__) from exc
        if answer.status_code in (200, 201, 202):
            return
        if answer.status_code in (404, 410, 422):
            raise HardBounce(f"gateway {answer.status_code}")
        raise Transient(f"gateway {answer.status_code}")


PROVIDERS = {"http": HttpSms, "none": NoSms}


def sms_provider() -> SmsProvider:
    name = settings.OVERBLIK_SMS_PROVIDER
    provider = PROVIDERS.get(name) or import_string(name)
    return provider()


def sms_send(*, to: str, text: str, key: str) -> None:
    sms_provider().send(to=to, text=text, key=key)
