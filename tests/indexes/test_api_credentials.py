"""API credentials: shown once, stored hashed, revocable, several per system."""

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from indexes.models import ApiCredential, SourceSystem
from indexes.services.credentials import (
    credential_authenticate,
    credential_create,
    credential_revoke,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def system():
    return SourceSystem.objects.create(municipality_id="461", product="SBSYS", name="SBSYS")


def test_key_is_key_id_dot_secret_and_only_the_secret_hash_is_stored(system):
    credential, key = credential_create(source_system=system, label="prod")
    key_id, secret = key.split(".")
    stored = ApiCredential.objects.get(pk=credential.pk)
    assert stored.key_id == key_id
    assert stored.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    # The plaintext is nowhere in the row.
    assert all(secret not in str(value) for value in stored.__dict__.values())
    assert len(secret) >= 40


def test_authenticate_accepts_the_key_and_refuses_a_wrong_secret(system):
    credential, key = credential_create(source_system=system)
    assert credential_authenticate(key=key) == credential
    key_id, secret = key.split(".")
    assert credential_authenticate(key=f"{key_id}.{secret[:-1]}x") is None
    assert credential_authenticate(key=f"{'0' * 16}.{secret}") is None
    assert credential_authenticate(key=key_id) is None
    assert credential_authenticate(key="") is None


def test_authenticate_records_last_use(system):
    credential, key = credential_create(source_system=system)
    assert credential.last_used_at is None
    credential_authenticate(key=key)
    credential.refresh_from_db()
    assert credential.last_used_at is not None


def test_several_keys_per_system_allow_rotation(system):
    old, old_key = credential_create(source_system=system, label="2024")
    new, new_key = credential_create(source_system=system, label="2025")
    assert credential_authenticate(key=old_key) == old
    assert credential_authenticate(key=new_key) == new
    credential_revoke(credential=old)
    assert credential_authenticate(key=old_key) is None
    assert credential_authenticate(key=new_key) == new
    # Revoking again changes nothing.
    revoked_at = ApiCredential.objects.get(pk=old.pk).revoked_at
    credential_revoke(credential=old)
    assert ApiCredential.objects.get(pk=old.pk).revoked_at == revoked_at


def test_inactive_source_system_cannot_authenticate(system):
    _, key = credential_create(source_system=system)
    system.is_active = False
    system.save()
    assert credential_authenticate(key=key) is None


def test_issue_command_prints_the_key_once_and_it_works(system):
    out, err = StringIO(), StringIO()
    call_command("api_credential_issue", "461:SBSYS", "--label", "ci", stdout=out, stderr=err)
    key = out.getvalue().strip()
    credential = credential_authenticate(key=key)
    assert credential is not None and credential.label == "ci"
    assert key not in err.getvalue()
    call_command("api_credential_revoke", credential.key_id, stdout=StringIO())
    assert credential_authenticate(key=key) is None


def test_issue_command_refuses_an_unknown_system(system):
    with pytest.raises(CommandError):
        call_command("api_credential_issue", "461:FASIT", stdout=StringIO())
