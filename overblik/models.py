"""The citizen's own account: who they are (without their CPR number) and when they last visited."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Citizen(models.Model):
    """A citizen who has logged in through the MitID broker.

    The CPR number is not stored: the citizen is found again by a keyed hash
    (HMAC-SHA256) of it, and the number itself lives only in the server-side
    session while they are logged in.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="citizen"
    )
    cpr_digest = models.CharField(_("CPR-nøgle (HMAC)"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("oprettet"), default=timezone.now)
    # Last request of the citizen's latest visit; "new since your last visit" counts from here.
    last_seen_at = models.DateTimeField(_("senest set"), null=True, blank=True)

    class Meta:
        verbose_name = _("borger")
        verbose_name_plural = _("borgere")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cpr_digest__regex=r"^[0-9a-f]{64}$"),
                name="citizen_cpr_digest_is_sha256_hex",
            ),
        ]

    def __str__(self) -> str:
        return f"{_('Borger')} {self.cpr_digest[:8]}"


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class Language(models.TextChoices):
    DANISH = "da", _("Dansk")
    ENGLISH = "en", _("Engelsk")


class NotificationSettings(models.Model):
    """What a citizen wants to be told, and where (issue 14).

    Keyed by an opaque id (a random UUID, also in the unsubscribe links) and tied to
    the ``Citizen`` — whose key is the HMAC of the CPR number, never the number. An
    address is used only once it is confirmed with a one-time code sent to it; a code
    is kept only as a keyed hash, for ``CODE_MINUTES`` and ``CODE_ATTEMPTS`` tries. A
    hard bounce (the server refused the address, the gateway the number) stops that
    channel until the citizen gives an address again.
    """

    CODE_MINUTES = 15
    CODE_ATTEMPTS = 5

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    citizen = models.OneToOneField(
        Citizen, on_delete=models.CASCADE, related_name="notification_settings"
    )
    email = models.EmailField(_("e-mail"), blank=True)
    email_confirmed_at = models.DateTimeField(_("e-mail bekræftet"), null=True, blank=True)
    email_bounced_at = models.DateTimeField(_("e-mail afvist"), null=True, blank=True)
    email_pending = models.EmailField(_("e-mail til bekræftelse"), blank=True)
    email_code = models.CharField(_("kode (HMAC)"), max_length=64, blank=True)
    email_code_expires_at = models.DateTimeField(null=True, blank=True)
    email_code_attempts = models.PositiveSmallIntegerField(default=0)
    mobile = models.CharField(_("mobilnummer"), max_length=8, blank=True)
    mobile_confirmed_at = models.DateTimeField(_("mobilnummer bekræftet"), null=True, blank=True)
    mobile_bounced_at = models.DateTimeField(_("mobilnummer afvist"), null=True, blank=True)
    mobile_pending = models.CharField(_("mobilnummer til bekræftelse"), max_length=8, blank=True)
    mobile_code = models.CharField(_("kode (HMAC)"), max_length=64, blank=True)
    mobile_code_expires_at = models.DateTimeField(null=True, blank=True)
    mobile_code_attempts = models.PositiveSmallIntegerField(default=0)
    topic_status = models.BooleanField(_("en sag skifter status"), default=True)
    topic_awaiting = models.BooleanField(_("kommunen venter på dig"), default=True)
    topic_deadline = models.BooleanField(_("en frist nærmer sig"), default=True)
    topic_document = models.BooleanField(_("et nyt dokument"), default=True)
    topic_payment = models.BooleanField(_("en udbetaling"), default=True)
    language = models.CharField(
        _("sprog"), max_length=2, choices=Language.choices, default=Language.DANISH
    )
    paused = models.BooleanField(_("sat på pause"), default=False)
    updated_at = models.DateTimeField(_("ændret"), auto_now=True)

    class Meta:
        verbose_name = _("notifikationsindstillinger")
        verbose_name_plural = _("notifikationsindstillinger")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(mobile="") | models.Q(mobile__regex=r"^[0-9]{8}$"),
                name="notification_mobile_eight_digits",
            ),
        ]

    def __str__(self) -> str:
        return str(self.id)

    def channel_active(self, channel: str) -> bool:
        """The channel has a confirmed address that has not bounced."""
        field = "email" if channel == Channel.EMAIL else "mobile"
        return bool(
            getattr(self, field)
            and getattr(self, f"{field}_confirmed_at")
            and not getattr(self, f"{field}_bounced_at")
        )


class NotificationMessage(models.Model):
    """One message to a citizen on one channel: the events of a digest window combined.

    ``send_after`` is the end of the window (for SMS moved into the day's sending hours);
    while the message is ``pending`` later events of the same window join its ``items``;
    once it is taken, they go to the next window's message (one message per window).
    ``idempotency_key`` goes with every attempt (the e-mail's Message-ID, the SMS
    gateway's Idempotency-Key), so a retry after a worker died mid-send is recognised.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Venter")
        SENDING = "sending", _("Sendes")
        SENT = "sent", _("Sendt")
        NOTHING = "nothing", _("Intet at sende")
        BOUNCED = "bounced", _("Afvist af modtageren")
        STOPPED = "stopped", _("Ikke sendt")

    settings = models.ForeignKey(
        NotificationSettings, on_delete=models.CASCADE, related_name="messages"
    )
    channel = models.CharField(_("kanal"), max_length=5, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    send_after = models.DateTimeField(_("sendes efter"))
    # When the next attempt is due (send_after, or later after a failure).
    due_at = models.DateTimeField(_("næste forsøg"))
    # [[topic, record_type, record_id], ...]: what it is about (never shown or sent as such).
    items = models.JSONField(_("hændelser"), default=list)
    topics = models.JSONField(_("emner"), default=list)  # what was sent, for the citizen's list
    idempotency_key = models.UUIDField(_("idempotensnøgle"), default=uuid.uuid4, unique=True)
    attempts = models.PositiveSmallIntegerField(_("forsøg"), default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(_("seneste fejl"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("oprettet"), default=timezone.now)
    sent_at = models.DateTimeField(_("sendt"), null=True, blank=True)

    class Meta:
        verbose_name = _("notifikation")
        verbose_name_plural = _("notifikationer")
        constraints = [
            # One message per citizen, channel and window, whatever its status: later
            # events join it while it is pending, and go to the next window once it has
            # left (a dispatcher late by a moment never makes a second message for a
            # window already sent; overblik.notifications.dispatch).
            models.UniqueConstraint(
                fields=["settings", "channel", "send_after"],
                name="notification_one_per_window",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="notification_due_idx",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["settings", "-created_at"], name="notification_citizen_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.status} {self.send_after:%Y-%m-%d %H:%M}"


class DeadlineReminder(models.Model):
    """A reminder written for a case's deadline (once per case and date)."""

    case_id = models.BigIntegerField()
    due_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case_id", "due_on"], name="reminder_once_per_due"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.due_on}"
