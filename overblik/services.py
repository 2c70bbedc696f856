"""Writes of the citizen portal: the citizen's account and visits."""

import hashlib
import hmac
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from borgerblikket.selectors.acting import PARENT
from indexes.models import DataAccess
from indexes.services.access import SUBJECT_SEPARATOR, data_access_record
from overblik.models import Citizen


def _hmac_key() -> bytes:
    configured = settings.OVERBLIK_CPR_HMAC_KEY
    if configured:
        return configured.encode()
    # A key of its own, derived from SECRET_KEY, so the digest is no plain hash of the CPR.
    return salted_hmac("overblik.citizen.cpr-key", "v1").digest()


def citizen_cpr_digest(*, cpr: str) -> str:
    """The keyed hash (HMAC-SHA256, hex) that identifies a citizen instead of their CPR number."""
    return hmac.new(_hmac_key(), cpr.encode(), hashlib.sha256).hexdigest()


def citizen_cpr_digests(cprs) -> dict[str, str]:
    """``citizen_cpr_digest`` of many CPR numbers (the key derived once): {cpr: digest}."""
    key = _hmac_key()
    return {cpr: hmac.new(key, cpr.encode(), hashlib.sha256).hexdigest() for cpr in set(cprs)}


@transaction.atomic
def citizen_get_or_create(*, cpr: str) -> Citizen:
    """The citizen with this CPR number, created (with a login-only user) on first login."""
    digest = citizen_cpr_digest(cpr=cpr)
    citizen = Citizen.objects.select_related("user").filter(cpr_digest=digest).first()
    if citizen is not None:
        return citizen
    user_model = get_user_model()
    # The username is derived from the digest, never from the CPR number.
    user = user_model(username=f"borger-{digest[:24]}")
    user.set_unusable_password()
    user.save()
    return Citizen.objects.create(user=user, cpr_digest=digest)


def citizen_visit_start(*, citizen: Citizen, now: datetime | None = None) -> datetime | None:
    """Begin a visit; return when the previous visit last saw the citizen (None on the first)."""
    now = now or timezone.now()
    previous = citizen.last_seen_at
    Citizen.objects.filter(pk=citizen.pk).update(last_seen_at=now)
    citizen.last_seen_at = now
    return previous


def citizen_seen(*, citizen_id: int, now: datetime | None = None) -> None:
    """Record that the citizen is still active (called at most once a minute per session)."""
    Citizen.objects.filter(pk=citizen_id).update(last_seen_at=now or timezone.now())


def acting_read_record(
    *, who: str, who_name: str, principal, record_kind: str, subjects: list[str]
) -> None:
    """Log that ``who`` saw ``principal``'s data while acting for them (issue 15).

    One row serves both logs: the principal's "Hvem har set mine data" (by the reader's
    name and relation, "Din datter Sofie Borgersen så din sag om …, med fuldmagt") and the
    reader's own record ("Det har du set for andre", found by ``actor_cpr``).
    """
    data_access_record(
        cpr=principal.cpr,
        actor_type=DataAccess.Actor.PARENT
        if principal.basis == PARENT
        else DataAccess.Actor.HOLDER,
        channel=DataAccess.Channel.PORTAL,
        record_kind=record_kind,
        subject=SUBJECT_SEPARATOR.join(dict.fromkeys(s for s in subjects if s)),
        actor_cpr=who,
        actor_name=who_name,
        actor_relation=principal.relation,
        citizen_name=principal.name,
    )
