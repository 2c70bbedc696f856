"""Acting for someone else in the portal (issue 15): the switcher, the banner, the limits.

Sofie Borgersen (a demo citizen) holds a power of attorney from Kim Borgersen; the
relations stand-in (``simulators.relations``) says so, here for his cleaning help
(KLE 27.24) only, the area of the portal's test data.
"""

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from simulators.demo_citizens import DEMO_CHILDREN
from simulators.mitid.citizens import DEMO_CITIZENS
from tests.overblik import data as portal_data
from tests.plugins.portal import oidc_login

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

KIM = portal_data.KIM
SOFIE = next(c for c in DEMO_CITIZENS if c.sub == "demo-sofie")


@pytest.fixture
def sofie(client, oidc_settings, relations):
    relations.powers[0]["scope"] = ["27.24"]
    portal_data.build()
    assert oidc_login(client, sub="demo-sofie").status_code == 302
    return client


def handles(text: str) -> list[str]:
    return re.findall(r'name="handle" value="([^"]+)"', text)


def act_for_kim(client) -> str:
    page = client.get(reverse("overblik:acting"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Kim Borgersen" in text
    handle = handles(text)[1]  # after "Dig selv"
    assert KIM.cpr not in handle and not re.search(r"\d{6}", handle)
    response = client.post(reverse("overblik:acting"), {"handle": handle})
    assert response.status_code == 302
    return handle


def test_the_holder_sees_the_principals_areas_in_scope_with_a_banner(sofie):
    own = sofie.get(reverse("overblik:overview")).content.decode()
    assert "Rengøring (FSIII)" not in own
    assert "dig selv" in own
    act_for_kim(sofie)
    for name in ("overview", "cases", "services", "benefits"):
        response = sofie.get(reverse(f"overblik:{name}"))
        text = response.content.decode()
        assert response.status_code == 200
        assert 'data-testid="acting-banner"' in text
        assert "Du ser nu oplysninger for" in text and "Kim Borgersen" in text
        assert "Ansøgning om kontanthjælp" not in text  # 32.24: outside the power
        assert KIM.cpr not in text and SOFIE.cpr not in text
    services = sofie.get(reverse("overblik:services")).content.decode()
    assert "Rengøring (FSIII)" in services


def test_the_holders_access_log_stays_their_own(sofie):
    act_for_kim(sofie)
    text = sofie.get(reverse("overblik:access-log")).content.decode()
    assert "En medarbejder i" not in text  # Kim's log (portal data) is not shown to Sofie


def test_back_to_oneself(sofie):
    act_for_kim(sofie)
    sofie.post(reverse("overblik:acting"), {"handle": "mig"})
    text = sofie.get(reverse("overblik:services")).content.decode()
    assert 'data-testid="acting-banner"' not in text
    assert "Rengøring (FSIII)" not in text


@pytest.mark.parametrize("handle", ["", "x", KIM.cpr, "1111501111"])
def test_a_guessed_or_made_up_handle_changes_nothing(sofie, handle):
    sofie.get(reverse("overblik:acting"))
    response = sofie.post(reverse("overblik:acting"), {"handle": handle})
    assert response.status_code == 400
    assert "Vælg en af personerne på listen" in response.content.decode()
    text = sofie.get(reverse("overblik:services")).content.decode()
    assert "Rengøring (FSIII)" not in text


def test_a_handle_from_another_session_is_worth_nothing(sofie, relations):
    handle = handles(sofie.get(reverse("overblik:acting")).content.decode())[1]
    other = Client()
    oidc_login(other, sub="demo-sofie")
    assert other.post(reverse("overblik:acting"), {"handle": handle}).status_code == 400


def test_a_revocation_ends_acting_after_the_cache_time(sofie, relations):
    act_for_kim(sofie)
    relations.powers[0]["revoked_at"] = "2026-01-01T00:00:00+00:00"
    # within the cache time the earlier answer stands
    assert "Rengøring (FSIII)" in sofie.get(reverse("overblik:services")).content.decode()
    cache.clear()  # the cache time has passed
    text = sofie.get(reverse("overblik:services")).content.decode()
    assert "Rengøring (FSIII)" not in text
    assert 'data-testid="acting-ended"' in text
    assert 'data-testid="acting-banner"' not in text


def test_the_services_down_mean_own_data_and_a_plain_notice(sofie, settings):
    act_for_kim(sofie)
    settings.OVERBLIK_FULDMAGT_URL = "http://127.0.0.1:9/fuldmagt"
    settings.OVERBLIK_CPR_RELATIONS_URL = "http://127.0.0.1:9/cpr"
    cache.clear()
    response = sofie.get(reverse("overblik:services"))
    assert response.status_code == 200
    assert "Rengøring (FSIII)" not in response.content.decode()
    switcher = sofie.get(reverse("overblik:acting"))
    assert switcher.status_code == 200
    assert 'data-testid="acting-unavailable"' in switcher.content.decode()


def test_a_citizen_with_nobody_to_act_for(citizen_client, relations):
    text = citizen_client.get(reverse("overblik:acting")).content.decode()
    assert handles(text) == ["mig"]


def test_the_switcher_needs_a_login(client):
    response = client.get(reverse("overblik:acting"))
    assert response.status_code == 302
    assert reverse("overblik:login") in response["Location"]


def test_acting_is_written_in_both_access_logs(sofie, oidc_settings):
    from indexes.models import DataAccess

    sofie.get(reverse("overblik:services"))
    assert not DataAccess.objects.filter(actor_cpr=SOFIE.cpr).exists()  # her own data
    act_for_kim(sofie)
    service = sofie.get(reverse("overblik:services")).content.decode()
    service_id = re.search(r'href="/serviceydelser/(\d+)/"', service).group(1)
    assert sofie.get(reverse("overblik:service", args=[service_id])).status_code == 200
    rows = DataAccess.objects.filter(actor_cpr=SOFIE.cpr)
    assert rows.count() == 2 and {r.citizen_cpr for r in rows} == {KIM.cpr}

    # Kim's "Hvem har set mine data": who (name and relation), what, on what basis.
    kim = Client()
    oidc_login(kim, sub="demo-kim")
    kims_log = kim.get(reverse("overblik:access-log")).content.decode()
    assert "Din datter Sofie Borgersen" in kims_log
    assert "så din ydelse om Praktisk hjælp, med fuldmagt" in kims_log
    assert SOFIE.cpr not in kims_log

    # Sofie's own record, on her own page.
    own = sofie.get(reverse("overblik:access-log")).content.decode()
    assert 'data-testid="seen-for-others"' in own
    assert "Du så oplysninger for Kim Borgersen: ydelse om Praktisk hjælp, med fuldmagt" in own
    assert KIM.cpr not in own


EMIL = next(c for c in DEMO_CHILDREN if c.key == "demo-barn-emil")
HANS = next(c for c in DEMO_CITIZENS if c.sub == "demo-hans")


@pytest.fixture
def hans(client, oidc_settings, relations):
    portal_data.build(cpr=EMIL.cpr)
    assert oidc_login(client, sub="demo-hans").status_code == 302
    return client


def test_a_parent_sees_the_childs_cases_and_both_logs_say_so(hans):
    from indexes.models import DataAccess

    assert "Ansøgning om kontanthjælp 1" not in hans.get(reverse("overblik:cases")).content.decode()
    page = hans.get(reverse("overblik:acting")).content.decode()
    assert "Emil Hansen" in page and EMIL.cpr not in page
    assert hans.post(reverse("overblik:acting"), {"handle": handles(page)[1]}).status_code == 302
    text = hans.get(reverse("overblik:cases")).content.decode()
    assert "Ansøgning om kontanthjælp 1" in text
    assert 'data-testid="acting-banner"' in text and "Emil Hansen" in text
    assert EMIL.cpr not in text and HANS.cpr not in text
    row = DataAccess.objects.get(actor_cpr=HANS.cpr)
    assert row.citizen_cpr == EMIL.cpr and row.actor_type == DataAccess.Actor.PARENT
    own = hans.get(reverse("overblik:access-log")).content.decode()
    assert "Du så oplysninger for Emil Hansen:" in own and "med forældremyndighed" in own


def test_a_parent_loses_access_on_the_childs_birthday_at_the_limit(hans, settings):
    # Emil was born on 9 April 2016: at a limit of his age today he is no longer "under" it.
    today = timezone.localdate()
    age = today.year - 2016 - ((today.month, today.day) < (4, 9))
    settings.OVERBLIK_CHILD_AGE_LIMIT = age
    cache.clear()
    page = hans.get(reverse("overblik:acting")).content.decode()
    assert handles(page) == ["mig"]  # nobody but himself
    settings.OVERBLIK_CHILD_AGE_LIMIT = age + 1
    cache.clear()
    assert len(handles(hans.get(reverse("overblik:acting")).content.decode())) == 2


def test_another_familys_child_is_out_of_reach(sofie):
    page = sofie.get(reverse("overblik:acting")).content.decode()
    assert "Emil Hansen" not in page
    assert sofie.post(reverse("overblik:acting"), {"handle": EMIL.cpr}).status_code == 400
