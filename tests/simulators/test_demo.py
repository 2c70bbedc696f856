"""`manage.py demo_load`: the portal fills itself through the real pipeline, once."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from borgerblikket.models import SheetRow
from borgerblikket.selectors import (
    benefits_visible_to_citizen,
    case_awaits_citizen,
    cases_visible_to_citizen,
    payments_visible_to_citizen,
)
from config.celery import app as celery_app
from indexes.models import Case, FeedPoll, Grant, Payment, SourceFeed
from simulators.demo import DEMO_MUNICIPALITIES
from simulators.demo_citizens import demo_citizen_get
from tests.conftest import shared_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager(settings):
    """As `make run` without a broker: tasks run in-process."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def demo_load(**options) -> str:
    out = io.StringIO()
    call_command("demo_load", citizens=8, stdout=out, **options)
    return out.getvalue()


def visible(citizen_key: str):
    cpr = demo_citizen_get(key=citizen_key).cpr
    cases = list(cases_visible_to_citizen(cpr=cpr))
    numbers = sorted(
        Case.objects.filter(pk__in=[c.pk for c in cases]).values_list(
            "municipality_id", "kle_subject__number"
        )
    )
    return cpr, numbers


@pytest.fixture
def no_shared_folder(settings, tmp_path):
    """A clone with no ../shared beside it: the demo needs nothing from there."""
    settings.SHARED_DIR = tmp_path / "no-shared-folder"


def test_demo_fills_three_municipalities_and_shows_each_citizen_their_story(
    kle, now, eager, no_shared_folder
):
    output = demo_load()

    assert "polled 12 feeds:" in output
    for name in ("Odense", "Syddjurs", "Fredensborg"):
        assert f"{name}'s sheet:" in output and "missing" not in output
    assert SourceFeed.objects.count() == 12
    assert not FeedPoll.objects.exclude(status=FeedPoll.Status.SUCCEEDED).exists()
    for code in DEMO_MUNICIPALITIES:
        assert Case.objects.filter(municipality_id=code).exists()
        assert SheetRow.objects.filter(municipality_id=code).exists()

    # Kim: Fredensborg shows the visitation and helbredstillæg; Odense's sheet hides elder
    # care, Fredensborg's hides parking.
    cpr, cases = visible("demo-kim")
    assert cases == [("210", "27.36.20"), ("210", "32.03.12")]
    assert Case.objects.filter(party_cpr=cpr, municipality_id="461").count() == 2
    names = {b.name for b in benefits_visible_to_citizen(cpr=cpr)}
    assert {
        "Hjælpemiddel - Knallert",
        "Filterbrille - Biocover Black Lange",
        "Folkepension",
    } <= names

    # Hans: kontanthjælp with payments in Syddjurs; his 2020 case predates the sheet.
    cpr, cases = visible("demo-hans")
    # Syddjurs' jobcentre files kontanthjælp under 32.24.04 (demo.DEMO_TEMPLATES).
    assert ("706", "32.24.04") in cases and ("706", "15.17.06") in cases
    assert Case.objects.filter(party_cpr=cpr, created_on__year=2020).exists()
    assert len([c for c in cases if c == ("706", "15.17.06")]) == 1
    assert "Kontanthjælp" in {b.name for b in benefits_visible_to_citizen(cpr=cpr)}
    assert len(list(payments_visible_to_citizen(cpr=cpr))) > 12

    # Mette: two jobcentre cases in Odense; the hidden, pre-sheet and building cases are not shown.
    cpr, cases = visible("demo-mette")
    assert cases == [("461", "15.17.06"), ("461", "15.20.24")]
    assert Case.objects.filter(party_cpr=cpr).count() == 5

    # Her revalidering (issue 11.1): KMD Ydelse's grant names FASIT's hidden case by
    # number and is resolved to it across the two systems. Even when Odense's sheet shows
    # the benefit's area, neither the benefit nor its payments are shown.
    grants = list(Grant.objects.filter(party_cpr=cpr).exclude(related_case_number=""))
    for named in grants:
        assert named.source_system.product != named.related_case.source_system.product
        assert named.related_case.case_number == named.related_case_number
    (grant,) = [g for g in grants if g.related_case.hidden_from_citizen]
    for benefit in grant.benefits.all():
        SheetRow.objects.get_or_create(
            municipality_id="461",
            kle_subject=benefit.kle_subject,
            defaults={"show_from": datetime.date(2000, 1, 1)},
        )
    assert not benefits_visible_to_citizen(cpr=cpr).filter(grant=grant).exists()
    assert not payments_visible_to_citizen(cpr=cpr).filter(benefit__grant=grant).exists()
    assert Payment.objects.filter(benefit__grant=grant).exists()

    # "Afventer dig": the municipality waits for Hans (kontanthjælp) and Mette (fleksjob),
    # since the days the demo says; nobody else's visible case waits.
    waiting = {
        (key, c.municipality_id, timezone.localtime(c.awaiting_party_since).date())
        for key in ("demo-kim", "demo-hans", "demo-mette")
        for c in cases_visible_to_citizen(cpr=demo_citizen_get(key=key).cpr)
        if case_awaits_citizen(c)
    }
    assert waiting == {
        ("demo-hans", "706", datetime.date(2026, 11, 2)),
        ("demo-mette", "461", datetime.date(2026, 10, 19)),
    }
    # Issue 14: their jobcentres' FASIT says what it waits for and by when (two weeks on).
    for key, _code, since in waiting:
        cpr = demo_citizen_get(key=key).cpr
        (case,) = [c for c in cases_visible_to_citizen(cpr=cpr) if case_awaits_citizen(c)]
        assert case.awaiting_party_due == since + datetime.timedelta(days=14)
        assert case.awaiting_party_reason.startswith(("Send de oplysninger", "Svar på"))
    # Syddjurs and Fredensborg publish their processing times (the sheets' last column);
    # Odense's sheet has the real sheet's ten columns and imports without it.
    for code in ("706", "210"):
        rows = SheetRow.objects.filter(municipality_id=code)
        assert not rows.filter(processing_time__isnull=True).exists(), code
    assert not SheetRow.objects.filter(
        municipality_id="461", processing_time__isnull=False
    ).exists()

    # Ingrid has nothing anywhere.
    cpr, cases = visible("demo-ingrid")
    assert cases == [] and not Payment.objects.filter(party_cpr=cpr).exists()


def test_demo_is_loaded_only_into_an_empty_index(kle, now, eager):
    demo_load()
    polls = FeedPoll.objects.count()
    output = demo_load()
    assert "already holds data" in output
    assert FeedPoll.objects.count() == polls


def test_demo_needs_kle_first(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="kle_ensure"):
        demo_load()


@pytest.mark.realdata
def test_with_the_real_2015_kle_the_demo_uses_its_numbers_and_imports_its_sheets_whole(
    db, now, eager
):
    from kle.models import Publication
    from kle.services.ensure import FIXTURE_FILES
    from kle.services.importer import kle_import_many

    real = shared_file("data/kle/KLE-Emneplan_Version2-0_2015-08-01.xml")
    kle_import_many(
        sources=[str(real), str(FIXTURE_FILES[Publication.Kind.ACTION_FACETS])], allow_older=True
    )

    output = demo_load()

    assert "lacks kontanthjaelp's number; using 32.24.04" in output
    # The demo's Odense sheet holds only numbers both KLEs know (the real sheet's 15.62
    # rows do not exist in the 2015 KLE; tests/borgerblikket/test_sheets.py imports it).
    assert "Odense's sheet: 5 rows added, 0 changed, 0 rejected" in output
    _cpr, cases = visible("demo-hans")
    assert ("706", "32.24.04") in cases  # kontanthjælp under the 2015 KLE's number
