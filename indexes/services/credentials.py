"""API credentials of source systems: issued once, stored hashed, revocable.

A key reads ``<key_id>.<secret>``. Only the SHA-256 of the secret is stored;
the key id is public and finds the row. Several active keys per system let a
system rotate without downtime (issue the new key, switch, revoke the old).
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from indexes.models import ApiCredential, SourceSystem

# Writing last_used_at on every request would put an UPDATE on the hot path of
# each PUT; once per interval is enough to tell an operator a key is in use.
LAST_USED_RESOLUTION = timedelta(minutes=5)
# Compared against when the key id is unknown, so a miss costs the same hash
# and comparison as a hit (no timing oracle for valid key ids).
_DUMMY_SHA256 = hashlib.sha256(b"no such key").hexdigest()


def _secret_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def credential_create(*, source_system: SourceSystem, label: str = "") -> tuple[ApiCredential, str]:
    """Issue a new key for ``source_system``; return the row and the plaintext key.

    The plaintext is returned here only and cannot be recovered later.
    """
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    credential = ApiCredential.objects.create(
        source_system=source_system,
        label=label,
        key_id=key_id,
        secret_sha256=_secret_sha256(secret),
    )
    return credential, f"{key_id}.{secret}"


def credential_revoke(*, credential: ApiCredential) -> ApiCredential:
    """Revoke ``credential``; requests with it are refused from now on. Idempotent."""
    if credential.revoked_at is None:
        credential.revoked_at = timezone.now()
        ApiCredential.objects.filter(pk=credential.pk, revoked_at__isnull=True).update(
            revoked_at=credential.revoked_at
        )
    return credential


def credential_authenticate(*, key: str) -> ApiCredential | None:
    """Return the active credential ``key`` belongs to, or ``None``.

    Revoked keys and keys of inactive source systems are refused. The secret is
    compared in constant time (``hmac.compare_digest``).
    """
    key_id, _, secret = key.strip().partition(".")
    if not key_id or not secret or len(key_id) > 32:
        return None
    credential = (
        ApiCredential.objects.select_related("source_system", "source_system__municipality")
        .filter(key_id=key_id, revoked_at__isnull=True, source_system__is_active=True)
        .first()
    )
    expected = credential.secret_sha256 if credential else _DUMMY_SHA256
    if not hmac.compare_digest(expected, _secret_sha256(secret)) or credential is None:
        return None
    now = timezone.now()
    if credential.last_used_at is None or now - credential.last_used_at > LAST_USED_RESOLUTION:
        ApiCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
        credential.last_used_at = now
    return credential
