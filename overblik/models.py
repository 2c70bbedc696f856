"""The citizen's own account: who they are (without their CPR number) and when they last visited."""

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
