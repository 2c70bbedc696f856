"""API keys of source systems: issued once, stored hashed, expiring, rotated, revoked, audited.

A key reads ``<key_id>.<secret>``. Only the SHA-256 of the secret is stored (the secret
is 256 random bits, so a fast hash is enough: nothing can be guessed); the key id is
public and finds the row. Several active keys per system let a system rotate without
downtime: ``credential_rotate`` issues the successor with the same scope and lets the
old key work until the overlap ends (``INDEXES_API_KEY_ROTATION_OVERLAP``).

A key acts for one installation (``source_system``) or, as a vendor key, for several
installations of one product; ``credential_installation`` picks the one a request
names. Every issue, rotation and revocation is an ``ApiCredentialEvent`` (who, when).
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from indexes.models import ApiCredential, ApiCredentialEvent, SourceSystem

# Writing last_used_at on every request would put an UPDATE on the hot path of
# each PUT; once a minute is enough to tell an operator a key is in use.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Compared against when the key id is unknown, so a miss costs the same hash
# and comparison as a hit (no timing oracle for valid key ids).
_DUMMY_SHA256 = hashlib.sha256(b"no such key").hexdigest()


def _secret_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _actor(user) -> str:
    return user.get_username() if user is not None else "manage.py"


def _event(credential: ApiCredential, action: str, user, detail: str = "") -> None:
    ApiCredentialEvent.objects.create(
        credential=credential,
        action=action,
        user=user if user is not None and user.pk else None,
        actor=_actor(user),
        detail=detail[:300],
    )


class CredentialScopeError(ValueError):
    """The scope asked for is not one: no installation, or installations of other products."""


def credential_scope_check(source_system, product: str, installations) -> None:
    if source_system is not None:
        if product or installations:
            raise CredentialScopeError("An installation key names one source system only.")
        return
    if not product:
        raise CredentialScopeError("A key names a source system, or a product (a vendor key).")
    if not installations:
        raise CredentialScopeError("A vendor key covers at least one installation.")
    wrong = [s for s in installations if s.product != product]
    if wrong:
        raise CredentialScopeError(
            f"A vendor key of {product} covers installations of {product} only, not: "
            + ", ".join(str(s) for s in wrong)
        )


@transaction.atomic
def credential_create(
    *,
    source_system: SourceSystem | None = None,
    product: str = "",
    installations: list[SourceSystem] | None = None,
    label: str = "",
    expires_at: datetime | None = None,
    user=None,
) -> tuple[ApiCredential, str]:
    """Issue a new key for ``source_system`` (or a vendor key of ``product`` covering
    ``installations``); return the row and the plaintext key.

    The plaintext is returned here only and cannot be recovered later. Raises
    ``CredentialScopeError`` for a scope that is not one.
    """
    installations = list(installations or [])
    credential_scope_check(source_system, product, installations)
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    credential = ApiCredential.objects.create(
        source_system=source_system,
        product=product,
        label=label,
        key_id=key_id,
        secret_sha256=_secret_sha256(secret),
        expires_at=expires_at,
    )
    if installations:
        credential.installations.set(installations)
    scope = (
        str(source_system)
        if source_system is not None
        else f"{product}: " + ", ".join(str(s) for s in installations)
    )
    _event(credential, ApiCredentialEvent.Action.ISSUED, user, f"for {scope}")
    return credential, f"{key_id}.{secret}"


def rotation_overlap() -> timedelta:
    """How long a rotated key keeps working beside its successor (a setting)."""
    return timedelta(seconds=settings.INDEXES_API_KEY_ROTATION_OVERLAP)


@transaction.atomic
def credential_rotate(
    *, credential: ApiCredential, overlap: timedelta | None = None, user=None
) -> tuple[ApiCredential, str]:
    """Issue the successor of ``credential`` (same scope and label); the old key keeps
    working for ``overlap`` (default ``rotation_overlap()``), then is refused.

    Returns the new row and its plaintext key. A revoked key cannot be rotated
    (``ValueError``).
    """
    credential = ApiCredential.objects.select_for_update().get(pk=credential.pk)
    if credential.revoked_at is not None:
        raise ValueError("A revoked key cannot be rotated: issue a new one.")
    overlap = rotation_overlap() if overlap is None else overlap
    new, key = credential_create(
        source_system=credential.source_system,
        product=credential.product,
        installations=list(credential.installations.all()),
        label=credential.label,
        expires_at=credential.expires_at,
        user=user,
    )
    ends = timezone.now() + overlap
    credential.expires_at = min(ends, credential.expires_at) if credential.expires_at else ends
    credential.replaced_by = new
    credential.save(update_fields=["expires_at", "replaced_by"])
    _event(
        credential,
        ApiCredentialEvent.Action.ROTATED,
        user,
        f"replaced by {new.key_id}; valid until {credential.expires_at.isoformat()}",
    )
    return new, key


def credential_revoke(*, credential: ApiCredential, user=None) -> ApiCredential:
    """Revoke ``credential``; requests with it are refused from now on. Idempotent."""
    with transaction.atomic():
        now = timezone.now()
        if ApiCredential.objects.filter(pk=credential.pk, revoked_at__isnull=True).update(
            revoked_at=now
        ):
            credential.revoked_at = now
            _event(credential, ApiCredentialEvent.Action.REVOKED, user)
        elif credential.revoked_at is None:
            credential.refresh_from_db(fields=["revoked_at"])
    return credential


@dataclass(frozen=True)
class Refusal:
    """Why a key that is genuine (its secret matches) is refused."""

    code: str  # key_revoked / key_expired / source_system_inactive
    message: str


def credential_authenticate(*, key: str) -> ApiCredential | None:
    """The valid credential ``key`` belongs to, or ``None`` (``credential_check``)."""
    result = credential_check(key=key)
    return result if isinstance(result, ApiCredential) else None


def credential_check(*, key: str) -> ApiCredential | Refusal | None:
    """The credential ``key`` belongs to; a ``Refusal`` when it is genuine but no longer
    valid (revoked, expired after its rotation's overlap); ``None`` when it is no key.

    The secret is compared in constant time (``hmac.compare_digest``), and only a
    caller who holds the whole key learns why it is refused. ``last_used_at`` is
    written at most once a minute.
    """
    key_id, _, secret = key.strip().partition(".")
    if not key_id or not secret or len(key_id) > 32:
        return None
    credential = (
        ApiCredential.objects.select_related("source_system", "source_system__municipality")
        .filter(key_id=key_id)
        .first()
    )
    expected = credential.secret_sha256 if credential else _DUMMY_SHA256
    if not hmac.compare_digest(expected, _secret_sha256(secret)) or credential is None:
        return None
    now = timezone.now()
    if credential.revoked_at is not None:
        return Refusal("key_revoked", "This API key was revoked.")
    if credential.expires_at is not None and credential.expires_at <= now:
        successor = " (rotated: use its successor)" if credential.replaced_by_id else ""
        return Refusal(
            "key_expired",
            f"This API key expired at {credential.expires_at.isoformat()}{successor}.",
        )
    if credential.source_system is not None and not credential.source_system.is_active:
        return Refusal("source_system_inactive", "The key's source system is not active.")
    if credential.last_used_at is None or now - credential.last_used_at > LAST_USED_RESOLUTION:
        ApiCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
        credential.last_used_at = now
    return credential


class InstallationError(Exception):
    """The installation a request names is missing, unknown or not covered by its key."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def credential_installation(*, credential: ApiCredential, requested: str | None) -> SourceSystem:
    """The source system a request with ``credential`` acts for.

    ``requested`` is the ``Source-System`` header (the installation's id), or ``None``.
    An installation key acts for its own system (a header naming another is refused); a
    vendor key for the installation the header names among those it covers (active
    ones), or its only one when it covers one. ``InstallationError`` otherwise.
    """
    if requested is not None:
        requested = requested.strip()
        if not (requested.isascii() and requested.isdigit() and len(requested) <= 18):
            raise InstallationError(
                "invalid_source_system", "Source-System must be the installation's id."
            )
    if credential.source_system is not None:
        if requested is not None and int(requested) != credential.source_system_id:
            raise InstallationError(
                "source_system_not_covered", "This key does not act for that installation."
            )
        return credential.source_system
    covered = credential.installations.filter(is_active=True).select_related("municipality")
    if requested is None:
        systems = list(covered[:2])
        if len(systems) == 1:
            return systems[0]
        raise InstallationError(
            "source_system_required",
            "This vendor key covers several installations: name one in the Source-System header.",
        )
    system = covered.filter(pk=int(requested)).first()
    if system is None:
        # The same answer for an installation that exists elsewhere and one that does not.
        raise InstallationError(
            "source_system_not_covered", "This key does not act for that installation."
        )
    return system
