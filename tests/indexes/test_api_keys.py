"""API keys as a source system meets them: rotation with an overlap, revocation, expiry,
last use at most once a minute, and vendor keys covering several installations of one
product, each record still checked against the named installation's municipality (issue 18).
"""

# Fixtures are imported from api_support; pytest injects them by parameter name.
# ruff: noqa: F811

import datetime as dt
import json

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from indexes.models import ApiCredential, ApiCredentialEvent, Case, InboxBatch, SourceSystem
from indexes.services.credentials import (
    CredentialScopeError,
    credential_create,
    credential_revoke,
    credential_rotate,
)
from tests.indexes.api_support import (
    case_record,
    kle,  # noqa: F401
    municipality_ensure,
    source_system,  # noqa: F401
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kle")]

NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


def client_with(key: str, **headers) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}", **headers)
    return client


def put_case(client, record: dict):
    return client.put(
        f"/api/v1/cases/{record['external_id']}",
        data=json.dumps(record),
        content_type="application/json",
    )


def assert_refused(response, code: str) -> None:
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert [e["code"] for e in response.json()["errors"]] == [code]


def test_a_rotated_key_works_until_the_overlap_ends_then_is_refused_clearly(source_system):
    """A client keeps posting with its old key while the operator rotates it."""
    with time_machine.travel(NOW, tick=False) as clock:
        old, old_key = credential_create(source_system=source_system, label="prod")
        client = client_with(old_key)
        assert put_case(client, case_record("c-0", minutes=0)).status_code == 201
        new, new_key = credential_rotate(credential=old, overlap=dt.timedelta(hours=2))
        assert (new.source_system, new.label) == (source_system, "prod")
        # Within the overlap both keys work.
        for minutes, key in ((1, old_key), (2, new_key)):
            clock.move_to(NOW + dt.timedelta(minutes=30 + minutes))
            assert (
                put_case(client_with(key), case_record("c-0", minutes=minutes)).status_code == 200
            )
        clock.move_to(NOW + dt.timedelta(hours=2, seconds=1))
        assert_refused(put_case(client, case_record("c-0", minutes=5)), "key_expired")
        assert (
            "successor"
            in put_case(client, case_record("c-0", minutes=5)).json()["errors"][0]["message"]
        )
        assert put_case(client_with(new_key), case_record("c-0", minutes=6)).status_code == 200
    assert Case.objects.get(external_id="c-0").version == 1  # the content never changed
    assert list(old.events.values_list("action", flat=True)) == ["rotated", "issued"]


def test_a_revoked_key_is_refused_at_once(source_system):
    credential, key = credential_create(source_system=source_system)
    client = client_with(key)
    assert put_case(client, case_record("c-1")).status_code == 201
    credential_revoke(credential=credential)
    assert_refused(put_case(client, case_record("c-1", minutes=1)), "key_revoked")
    assert_refused(client.get("/api/v1/cases"), "key_revoked")


def test_a_key_past_its_expiry_is_refused(source_system):
    _, key = credential_create(
        source_system=source_system, expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert_refused(client_with(key).get("/api/v1/cases"), "key_expired")


def test_a_wrong_secret_learns_nothing_of_why(source_system):
    credential, _ = credential_create(source_system=source_system)
    credential_revoke(credential=credential)
    response = client_with(f"{credential.key_id}.wrong-secret").get("/api/v1/cases")
    assert response.status_code == 401
    assert "errors" not in response.json()


def test_last_use_is_written_at_most_once_a_minute(source_system):
    credential, key = credential_create(source_system=source_system)
    client = client_with(key)
    with time_machine.travel(NOW, tick=False) as clock:
        client.get("/api/v1/cases")
        credential.refresh_from_db()
        assert credential.last_used_at == NOW
        clock.move_to(NOW + dt.timedelta(seconds=59))
        client.get("/api/v1/cases")
        credential.refresh_from_db()
        assert credential.last_used_at == NOW
        clock.move_to(NOW + dt.timedelta(seconds=61))
        client.get("/api/v1/cases")
        credential.refresh_from_db()
        assert credential.last_used_at == NOW + dt.timedelta(seconds=61)


@pytest.fixture
def fasit():
    """FASIT at Odense (461) and København (101); SBSYS at Aalborg (851)."""
    return {
        code: SourceSystem.objects.create(
            municipality=municipality_ensure(code), product=product, name=f"{product} {code}"
        )
        for code, product in (("461", "FASIT"), ("101", "FASIT"), ("851", "SBSYS"))
    }


@pytest.fixture
def vendor_key(fasit):
    _, key = credential_create(
        product="FASIT", installations=[fasit["461"], fasit["101"]], label="FASIT drift"
    )
    return key


def test_a_vendor_key_acts_for_the_installation_it_names(fasit, vendor_key):
    odense = client_with(vendor_key, HTTP_SOURCE_SYSTEM=str(fasit["461"].pk))
    copenhagen = client_with(vendor_key, HTTP_SOURCE_SYSTEM=str(fasit["101"].pk))
    assert put_case(odense, case_record("c-1")).status_code == 201
    assert put_case(copenhagen, case_record("c-1", municipality="101")).status_code == 201
    assert set(Case.objects.values_list("source_system__name", "municipality_id")) == {
        ("FASIT 461", "461"),
        ("FASIT 101", "101"),
    }
    # Each installation reads back its own records only.
    assert [r["municipality"] for r in odense.get("/api/v1/cases").json()["results"]] == ["461"]
    # A bulk delivery belongs to the installation named too.
    response = copenhagen.post(
        "/api/v1/batches",
        data=json.dumps(
            {"records": [{"kind": "case", "record": case_record("c-2", municipality="101")}]}
        ),
        content_type="application/json",
    )
    assert response.status_code == 202
    assert InboxBatch.objects.get().source_system == fasit["101"]


def test_a_vendor_key_writes_only_the_named_installations_municipality(fasit, vendor_key):
    odense = client_with(vendor_key, HTTP_SOURCE_SYSTEM=str(fasit["461"].pk))
    for code in ("101", "851"):  # another installation's, and one none of them has
        response = put_case(odense, case_record(f"c-{code}", municipality=code))
        assert response.status_code == 422
        assert [e["code"] for e in response.json()["errors"]] == ["foreign_municipality"]
    assert not Case.objects.exists()


def test_a_vendor_key_must_name_an_installation_it_covers(fasit, vendor_key):
    response = client_with(vendor_key).get("/api/v1/cases")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "source_system_required"
    not_covered = client_with(vendor_key, HTTP_SOURCE_SYSTEM=str(fasit["851"].pk)).get(
        "/api/v1/cases"
    )
    missing = client_with(vendor_key, HTTP_SOURCE_SYSTEM="999999").get("/api/v1/cases")
    assert not_covered.status_code == missing.status_code == 403
    assert not_covered.json() == missing.json()  # no word of whether it exists
    assert not_covered.json()["errors"][0]["code"] == "source_system_not_covered"
    malformed = client_with(vendor_key, HTTP_SOURCE_SYSTEM="461; drop").get("/api/v1/cases")
    assert malformed.status_code == 400
    assert malformed.json()["errors"][0]["code"] == "invalid_source_system"


def test_an_installation_key_acts_only_for_its_own_installation(fasit):
    _, key = credential_create(source_system=fasit["461"])
    assert (
        client_with(key, HTTP_SOURCE_SYSTEM=str(fasit["461"].pk)).get("/api/v1/cases").status_code
        == 200
    )
    other = client_with(key, HTTP_SOURCE_SYSTEM=str(fasit["101"].pk)).get("/api/v1/cases")
    assert other.status_code == 403


def test_a_vendor_key_covers_installations_of_its_product_only(fasit):
    with pytest.raises(CredentialScopeError):
        credential_create(product="FASIT", installations=[fasit["461"], fasit["851"]])
    with pytest.raises(CredentialScopeError):
        credential_create(product="FASIT", installations=[])
    with pytest.raises(CredentialScopeError):
        credential_create(source_system=fasit["461"], product="FASIT")
    assert not ApiCredential.objects.exists()


def test_a_vendor_key_with_one_installation_needs_no_header(fasit):
    _, key = credential_create(product="FASIT", installations=[fasit["461"]])
    assert put_case(client_with(key), case_record("c-1")).status_code == 201


def test_rotating_a_vendor_key_keeps_its_installations_and_every_step_is_audited(
    fasit, django_user_model
):
    operator = django_user_model.objects.create_superuser("operatør", password="x")
    credential, _ = credential_create(
        product="FASIT", installations=[fasit["461"], fasit["101"]], user=operator
    )
    new, _ = credential_rotate(credential=credential, user=operator)
    assert set(new.installations.all()) == {fasit["461"], fasit["101"]}
    assert new.product == "FASIT" and new.source_system is None
    credential_revoke(credential=new, user=operator)
    credential_revoke(credential=new, user=operator)  # idempotent: audited once
    events = ApiCredentialEvent.objects.order_by("pk")
    assert [(e.credential_id, e.action, e.actor) for e in events] == [
        (credential.pk, "issued", "operatør"),
        (new.pk, "issued", "operatør"),
        (credential.pk, "rotated", "operatør"),
        (new.pk, "revoked", "operatør"),
    ]
    with pytest.raises(ValueError, match="revoked"):
        credential_rotate(credential=new)
