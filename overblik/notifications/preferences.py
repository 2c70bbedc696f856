"""A citizen's notification settings: addresses confirmed by one-time codes, topics,
language, pause, and the signed token of the one-click unsubscribe (RFC 8058)."""

import hmac
import secrets
from datetime import timedelta

from django.core import signing
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from overblik.models import Channel, Citizen, NotificationSettings
from overblik.notifications import channels

FIELD = {Channel.EMAIL: "email", Channel.SMS: "mobile"}
TOPIC_FIELDS = {
    "status": "topic_status",
    "awaiting": "topic_awaiting",
    "deadline": "topic_deadline",
    "document": "topic_document",
    "payment": "topic_payment",
}
_UNSUBSCRIBE_SALT = "overblik.notifications.unsubscribe"


class CodeProblem(Exception):
    """The code was wrong, expired or tried too often (the message says which)."""


def settings_for(*, citizen_id: int) -> NotificationSettings:
    settings, _created = NotificationSettings.objects.get_or_create(citizen_id=citizen_id)
    return settings


def _code_digest(settings: NotificationSettings, channel: str, code: str) -> str:
    return salted_hmac(
        "overblik.notifications.code", f"{settings.pk}:{channel}:{code}", algorithm="sha256"
    ).hexdigest()


def _code_message(settings: NotificationSettings, channel: str, code: str, address: str) -> None:
    with translation.override(settings.language):
        context = {"code": code, "minutes": NotificationSettings.CODE_MINUTES}
        key = f"code-{secrets.token_hex(16)}"
        if channel == Channel.EMAIL:
            channels.email_send(
                channels.Email(
                    to=address,
                    subject=_("Din kode til Mit Overblik"),
                    text=render_to_string("overblik/notifications/code.txt", context),
                    html=render_to_string("overblik/notifications/code.html", context),
                    headers={},
                ),
                key=key,
            )
        else:
            channels.sms_send(
                to=address,
                text=render_to_string("overblik/notifications/code_sms.txt", context).strip(),
                key=key,
            )


def address_start(*, settings: NotificationSettings, channel: str, address: str) -> None:
    """Keep ``address`` as waiting for confirmation and send it a new one-time code.

    ``channels.Transient`` when the code could not be sent (nothing is kept then).
    """
    field = FIELD[channel]
    code = f"{secrets.randbelow(1_000_000):06d}"
    _code_message(settings, channel, code, address)
    setattr(settings, f"{field}_pending", address)
    setattr(settings, f"{field}_code", _code_digest(settings, channel, code))
    setattr(
        settings,
        f"{field}_code_expires_at",
        timezone.now() + timedelta(minutes=NotificationSettings.CODE_MINUTES),
    )
    setattr(settings, f"{field}_code_attempts", 0)
    settings.save()


@transaction.atomic
def address_confirm(*, settings: NotificationSettings, channel: str, code: str) -> None:
    """Confirm the waiting address with its code; ``CodeProblem`` says what was wrong."""
    field = FIELD[channel]
    settings = NotificationSettings.objects.select_for_update().get(pk=settings.pk)
    stored = getattr(settings, f"{field}_code")
    expires = getattr(settings, f"{field}_code_expires_at")
    attempts = getattr(settings, f"{field}_code_attempts")
    if not stored or not getattr(settings, f"{field}_pending"):
        raise CodeProblem(_("Der er ingen kode at bekræfte. Bed om en ny kode."))
    if expires is None or expires < timezone.now():
        raise CodeProblem(_("Koden er udløbet. Bed om en ny kode."))
    if attempts >= NotificationSettings.CODE_ATTEMPTS:
        raise CodeProblem(_("Koden er prøvet for mange gange. Bed om en ny kode."))
    if not hmac.compare_digest(stored, _code_digest(settings, channel, code.strip())):
        setattr(settings, f"{field}_code_attempts", attempts + 1)
        settings.save(update_fields=[f"{field}_code_attempts"])
        raise CodeProblem(_("Koden er forkert."))
    setattr(settings, field, getattr(settings, f"{field}_pending"))
    setattr(settings, f"{field}_confirmed_at", timezone.now())
    setattr(settings, f"{field}_bounced_at", None)
    setattr(settings, f"{field}_pending", "")
    setattr(settings, f"{field}_code", "")
    setattr(settings, f"{field}_code_expires_at", None)
    setattr(settings, f"{field}_code_attempts", 0)
    settings.save()


def address_remove(*, settings: NotificationSettings, channel: str) -> None:
    """Stop a channel: forget its address (and any waiting one)."""
    field = FIELD[channel]
    NotificationSettings.objects.filter(pk=settings.pk).update(
        **{
            field: "",
            f"{field}_confirmed_at": None,
            f"{field}_bounced_at": None,
            f"{field}_pending": "",
            f"{field}_code": "",
            f"{field}_code_expires_at": None,
        }
    )


def preferences_save(
    *, settings: NotificationSettings, topics: set[str], language: str, paused: bool
) -> None:
    for topic, field in TOPIC_FIELDS.items():
        setattr(settings, field, topic in topics)
    settings.language = language
    settings.paused = paused
    settings.save()


def unsubscribe_token(*, settings_id, channel: str) -> str:
    """A signed token naming the settings and channel (no expiry: old mails keep working)."""
    return signing.dumps({"s": str(settings_id), "c": channel}, salt=_UNSUBSCRIBE_SALT)


def unsubscribe(*, token: str) -> str | None:
    """Stop the channel the token names; its channel, or None for a bad token."""
    try:
        data = signing.loads(token, salt=_UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    channel = data.get("c") if isinstance(data, dict) else None
    if channel not in FIELD:
        return None
    settings = NotificationSettings.objects.filter(pk=data.get("s")).first()
    if settings is not None:
        address_remove(settings=settings, channel=channel)
    return channel


def citizen_settings_exists(citizen: Citizen) -> bool:
    return NotificationSettings.objects.filter(citizen=citizen).exists()
