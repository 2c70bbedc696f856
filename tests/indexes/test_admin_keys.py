"""The operators' admin of API keys (Django test client): issue (shown once), rotate,
revoke, audit; municipal admins see no key (issue 18)."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from indexes.models import ApiCredential, ApiCredentialEvent, SourceSystem
from indexes.services.credentials import credential_check, credential_create
from tests.borgerblikket import factories as f
from tests.indexes.api_support import municipality_ensure

pytestmark = [pytest.mark.django_db]

KEY = re.compile(r'id="issued-key"[^>]*value="([0-9a-f]{16}\.[A-Za-z0-9_-]+)"')


@pytest.fixture
def operator(django_user_model):
    user = django_user_model.objects.create_superuser("operator", password="pw")
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def systems():
    return {
        code: SourceSystem.objects.create(
            municipality=municipality_ensure(code), product="FASIT", name=f"FASIT {code}"
        )
        for code in ("461", "101")
    }


def issued_key(response) -> str:
    assert response.status_code == 200, response.content[:2000]
    match = KEY.search(response.content.decode())
    assert match, "the key is not on the page"
    return match.group(1)


def api_works(key: str, system=None) -> int:
    client = APIClient()
    headers = {"HTTP_SOURCE_SYSTEM": str(system.pk)} if system else {}
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}", **headers)
    return client.get("/api/v1/cases").status_code


def test_an_operator_issues_a_key_and_sees_it_once(operator, systems):
    response = operator.post(
        reverse("admin:indexes_apicredential_add"),
        {"label": "FASIT Odense prod", "source_system": systems["461"].pk, "product": ""},
    )
    key = issued_key(response)
    assert "no-store" in response["Cache-Control"]
    credential = ApiCredential.objects.get()
    assert key.startswith(credential.key_id + ".")
    assert key.split(".", 1)[1] not in str(ApiCredential.objects.values_list().get())
    assert api_works(key) == 200
    # Never again: not on its page, not in the list, not in the audit.
    for url in (
        reverse("admin:indexes_apicredential_change", args=[credential.pk]),
        reverse("admin:indexes_apicredential_changelist"),
        reverse("admin:indexes_sourcesystem_change", args=[systems["461"].pk]),
    ):
        page = operator.get(url)
        assert page.status_code == 200
        assert key not in page.content.decode() and credential.key_id in page.content.decode()
    event = ApiCredentialEvent.objects.get()
    assert (event.action, event.user, event.actor) == ("issued", operator.user, "operator")


def test_an_operator_issues_a_vendor_key_for_installations_of_one_product(operator, systems):
    sbsys = SourceSystem.objects.create(
        municipality=municipality_ensure("851"), product="SBSYS", name="SBSYS Aalborg"
    )
    add = reverse("admin:indexes_apicredential_add")
    wrong = operator.post(add, {"product": "FASIT", "installations": [systems["461"].pk, sbsys.pk]})
    assert wrong.status_code == 200 and not ApiCredential.objects.exists()
    assert "SBSYS Aalborg" in wrong.content.decode()  # the form names the misfit
    response = operator.post(
        add, {"product": "FASIT", "installations": [s.pk for s in systems.values()]}
    )
    key = issued_key(response)
    # The page names each installation's id for the Source-System header.
    for system in systems.values():
        assert f"{system.pk} = {system}" in response.content.decode()
        assert api_works(key, system) == 200


def test_an_operator_rotates_a_key_old_and_new_valid_for_the_overlap(operator, systems):
    old, old_key = credential_create(source_system=systems["461"], label="prod")
    url = reverse("admin:indexes_apicredential_rotate", args=[old.pk])
    form = operator.get(url)
    assert form.status_code == 200 and 'value="168"' in form.content.decode()  # the setting
    response = operator.post(url, {"overlap_hours": "2"})
    new_key = issued_key(response)
    assert "no-store" in response["Cache-Control"]
    old.refresh_from_db()
    new = ApiCredential.objects.get(pk=old.replaced_by_id)
    assert new_key.startswith(new.key_id + ".") and new.label == "prod"
    assert abs(old.expires_at - (timezone.now() + dt.timedelta(hours=2))) < dt.timedelta(minutes=1)
    assert api_works(old_key) == api_works(new_key) == 200
    assert list(old.events.values_list("action", "actor")) == [
        ("rotated", "operator"),
        ("issued", "manage.py"),
    ]


def test_an_operator_revokes_a_key_on_its_page_and_in_the_list(operator, systems):
    first, first_key = credential_create(source_system=systems["461"])
    second, second_key = credential_create(source_system=systems["101"])
    url = reverse("admin:indexes_apicredential_revoke", args=[first.pk])
    assert operator.get(url).status_code == 200  # a confirmation, nothing done yet
    assert api_works(first_key) == 200
    assert operator.post(url).status_code == 302
    assert api_works(first_key) == 401
    response = operator.post(
        reverse("admin:indexes_apicredential_changelist"),
        {"action": "revoke_selected", "_selected_action": [second.pk]},
    )
    assert response.status_code == 302
    assert api_works(second_key) == 401
    assert credential_check(key=second_key).code == "key_revoked"
    assert sorted(
        ApiCredentialEvent.objects.filter(action="revoked").values_list("actor", flat=True)
    ) == [
        "operator",
        "operator",
    ]


def test_a_key_is_never_deleted_and_its_fields_never_changed(operator, systems):
    credential, _ = credential_create(source_system=systems["461"])
    change = reverse("admin:indexes_apicredential_change", args=[credential.pk])
    assert operator.get(change).status_code == 200  # shown read-only
    assert (
        operator.post(change, {"label": "other", "source_system": systems["101"].pk}).status_code
        == 403
    )
    credential.refresh_from_db()
    assert (credential.label, credential.source_system) == ("", systems["461"])
    delete = reverse("admin:indexes_apicredential_delete", args=[credential.pk])
    assert operator.get(delete).status_code == 403


def test_municipal_admins_see_no_keys(systems):
    credential, _ = credential_create(source_system=systems["461"])
    user = f.municipal_admin("461", username="odense-admin")
    client = Client()
    client.force_login(user)
    for url in (
        reverse("admin:indexes_apicredential_changelist"),
        reverse("admin:indexes_apicredential_add"),
        reverse("admin:indexes_apicredential_change", args=[credential.pk]),
        reverse("admin:indexes_apicredential_rotate", args=[credential.pk]),
        reverse("admin:indexes_apicredential_revoke", args=[credential.pk]),
    ):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"overlap_hours": "1"}).status_code == 403, url
    # Their own source system's page shows no key either.
    page = client.get(reverse("admin:indexes_sourcesystem_change", args=[systems["461"].pk]))
    assert page.status_code == 200
    assert credential.key_id not in page.content.decode()
    credential.refresh_from_db()
    assert credential.revoked_at is None and credential.replaced_by is None
