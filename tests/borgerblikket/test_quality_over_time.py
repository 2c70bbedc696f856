"""Data quality over time (issue 16): the units' approved KLE numbers and their check, the
daily snapshot of every check (service, command, task, beat), and the trend page."""

import datetime as dt
import re
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from borgerblikket.models import ApprovedKleNumber, Membership, QualitySnapshot
from borgerblikket.selectors import quality
from borgerblikket.services.quality_snapshots import quality_snapshots_take
from borgerblikket.tasks import quality_snapshots_take_task
from indexes.models import DocumentType
from tests.borgerblikket import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

DAY = dt.date(2026, 12, 1)


@pytest.fixture
def odense():
    return f.municipality("461")


def found(key: str, municipality) -> set[str]:
    return set(
        quality.check_offending(municipality=municipality, key=key).values_list(
            "external_id", flat=True
        )
    )


# --- approved KLE numbers -------------------------------------------------------------------


def test_unapproved_kle_flags_a_units_cases_on_numbers_not_in_its_list(odense):
    fasit = f.SourceSystemFactory(municipality=odense, name="FASIT")
    sbsys = f.SourceSystemFactory(municipality=odense, name="SBSYS")
    approved = f.kle_subject("32.24.04", "Hjælp til forsørgelse")
    other = f.kle_subject("15.17.06", "Sygedagpengeopfølgning")
    ApprovedKleNumber.objects.create(municipality=odense, unit="Jobcenter", kle_number="32.24.04")
    ApprovedKleNumber.objects.create(
        municipality=odense, source_system=sbsys, unit="Borgerservice", kle_number="15.17.06"
    )
    f.CaseFactory(
        source_system=fasit, external_id="bad", responsible_unit="Jobcenter", kle_subject=other
    )
    f.CaseFactory(
        source_system=sbsys,
        external_id="bad-sbsys",
        responsible_unit="Jobcenter",
        kle_subject=other,
    )
    # Negative: an approved number; a unit without a list; a list of another source system
    # only; another municipality's unit of the same name.
    f.CaseFactory(
        source_system=fasit, external_id="ok", responsible_unit="Jobcenter", kle_subject=approved
    )
    f.CaseFactory(
        source_system=fasit, external_id="no-list", responsible_unit="Ydelse", kle_subject=other
    )
    f.CaseFactory(
        source_system=fasit,
        external_id="other-system",
        responsible_unit="Borgerservice",
        kle_subject=approved,
    )
    f.CaseFactory(
        source_system=sbsys,
        external_id="sbsys-ok",
        responsible_unit="Borgerservice",
        kle_subject=other,
    )
    aarhus = f.SourceSystemFactory(municipality=f.municipality("751"))
    f.CaseFactory(
        source_system=aarhus, external_id="aarhus", responsible_unit="Jobcenter", kle_subject=other
    )
    assert found("unapproved_kle", odense) == {"bad", "bad-sbsys"}
    sbsys_case = f.CaseFactory(
        source_system=sbsys,
        external_id="sbsys-bad",
        responsible_unit="Borgerservice",
        kle_subject=approved,
    )
    assert sbsys_case.external_id in found("unapproved_kle", odense)


@pytest.fixture
def odense_admin_client(odense):
    client = Client()
    client.force_login(f.municipal_admin("461"))
    return client


def test_a_municipal_admin_adds_an_approved_number_and_bad_ones_are_named(
    odense, odense_admin_client
):
    f.kle_subject("32.24.04", "Hjælp til forsørgelse")
    f.kle_subject("32.24", "En gruppe")
    aarhus_system = f.SourceSystemFactory(municipality=f.municipality("751"))
    url = reverse("admin:borgerblikket_approvedklenumber_add")
    response = odense_admin_client.post(
        url, {"municipality": "461", "unit": " Jobcenter ", "kle_number": "32.24.04"}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    row = ApprovedKleNumber.objects.get()
    assert (row.municipality_id, row.unit, row.kle_number) == ("461", "Jobcenter", "32.24.04")
    for data, field in (
        ({"kle_number": "32.24"}, "kle_number"),
        ({"kle_number": "99.99.99"}, "kle_number"),
        ({"kle_number": "32.24.04", "source_system": aarhus_system.pk}, "source_system"),
    ):
        response = odense_admin_client.post(url, {"municipality": "461", "unit": "Ydelse", **data})
        assert response.status_code == 200
        assert field in response.context["adminform"].form.errors, data
    assert ApprovedKleNumber.objects.count() == 1


def test_a_manager_reads_the_approved_numbers_but_changes_none(odense):
    row = ApprovedKleNumber.objects.create(
        municipality=odense, unit="Jobcenter", kle_number="32.24.04"
    )
    manager = f.municipal_admin("461", username="manager")
    Membership.objects.filter(user=manager).update(role=Membership.Role.MANAGER)
    client = Client()
    client.force_login(manager)
    assert (
        client.get(reverse("admin:borgerblikket_approvedklenumber_changelist")).status_code == 200
    )
    assert client.get(reverse("admin:borgerblikket_approvedklenumber_add")).status_code == 403
    response = client.post(
        reverse("admin:borgerblikket_approvedklenumber_change", args=[row.pk]),
        {"municipality": "461", "unit": "Andet", "kle_number": "32.24.04"},
    )
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.unit == "Jobcenter"


# --- snapshots ----------------------------------------------------------------------------


@pytest.fixture
def faults(odense):
    system = f.SourceSystemFactory(municipality=odense, name="FASIT")
    case = f.CaseFactory(source_system=system, external_id="c1", title="Samlesag om åen")
    f.document_on(case, external_id="d1", type=DocumentType.INCOMING_LETTER)
    f.document_on(case, external_id="d2", type=DocumentType.OUTGOING_LETTER)
    sandbox = f.SourceSystemFactory(municipality=odense, sandbox=True)
    f.CaseFactory(source_system=sandbox, title="Samlesag i sandkassen")
    f.municipality("101")  # no source system: no snapshot
    return case


def test_a_snapshot_keeps_every_checks_count_per_municipality(odense, faults):
    rows = quality_snapshots_take(day=DAY)
    stored = {
        (s.municipality_id, s.check_key): s.count
        for s in QualitySnapshot.objects.filter(taken_on=DAY)
    }
    assert len(rows) == len(stored) == len(quality.CHECKS)
    for key in quality.CHECKS:
        expected = sum(quality.check_counts(municipality=odense, key=key).values())
        assert stored[("461", key)] == expected, key
    assert stored[("461", "letter_party")] == 2
    assert stored[("461", "collective")] == 1  # the sandbox's case is not counted


def test_taking_the_same_day_again_replaces_it_and_leaves_other_days(odense, faults):
    quality_snapshots_take(day=DAY - dt.timedelta(days=1))
    quality_snapshots_take(day=DAY)
    faults.title = "Afslag på ansøgning om hjælp"
    faults.save()
    quality_snapshots_take(day=DAY)
    today = QualitySnapshot.objects.filter(taken_on=DAY, check_key="collective")
    assert [s.count for s in today] == [0]
    yesterday = QualitySnapshot.objects.get(
        taken_on=DAY - dt.timedelta(days=1), check_key="collective"
    )
    assert yesterday.count == 1
    assert QualitySnapshot.objects.count() == 2 * len(quality.CHECKS)


def test_the_command_takes_a_day_and_names_a_bad_argument(odense, faults):
    out = StringIO()
    call_command("quality_snapshot", "--date", "2026-11-30", stdout=out)
    assert f"{len(quality.CHECKS)} counts for 1 municipalities on 2026-11-30" in out.getvalue()
    assert QualitySnapshot.objects.filter(taken_on=dt.date(2026, 11, 30)).count() == len(
        quality.CHECKS
    )
    call_command("quality_snapshot", "--municipality", "101", stdout=StringIO())
    assert QualitySnapshot.objects.filter(municipality_id="101").count() == len(quality.CHECKS)
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("quality_snapshot", "--date", "30-11-2026")
    with pytest.raises(CommandError, match="unknown municipality: 999"):
        call_command("quality_snapshot", "--municipality", "999")


def test_the_nightly_task_is_scheduled_and_takes_today(odense, faults):
    entry = settings.CELERY_BEAT_SCHEDULE["quality-snapshots"]
    assert (
        entry["task"] == quality_snapshots_take_task.name == "borgerblikket.quality_snapshots_take"
    )
    assert quality_snapshots_take_task() == {"snapshots": len(quality.CHECKS)}
    assert QualitySnapshot.objects.filter(municipality_id="461").count() == len(quality.CHECKS)


# --- targets and the trend page -------------------------------------------------------------


def test_targets_default_to_zero_but_none_for_the_overview_and_are_a_setting(settings):
    settings.BORGERBLIKKET_QUALITY_TARGETS = {}
    assert quality.quality_target(key="letter_party") == 0
    assert quality.quality_target(key="complaint") is None
    settings.BORGERBLIKKET_QUALITY_TARGETS = {"letter_party": 10, "idle": None, "complaint": 3}
    assert quality.quality_target(key="letter_party") == 10
    assert quality.quality_target(key="idle") is None
    assert quality.quality_target(key="complaint") == 3


def _snapshots(municipality, key, counts: dict[int, int]):
    from django.utils import timezone

    today = timezone.localdate()
    for days_ago, n in counts.items():
        QualitySnapshot.objects.create(
            taken_on=today - dt.timedelta(days=days_ago),
            municipality=municipality,
            check_key=key,
            count=n,
        )
    return today


def test_the_trend_page_draws_the_counts_and_the_target_with_a_table(
    odense, odense_admin_client, settings
):
    settings.BORGERBLIKKET_QUALITY_TARGETS = {"letter_party": 5}
    today = _snapshots(odense, "letter_party", {0: 3, 1: 7, 10: 12, 200: 99})
    _snapshots(odense, "collective", {0: 40})
    response = odense_admin_client.get(
        reverse("borgerblikket_admin:quality_trend", args=["461", "letter_party"])
    )
    assert response.status_code == 200
    html = response.content.decode()
    # Newest first in the table; the 200-day-old point is outside the 90 days.
    assert [(r["day"], r["count"], r["met"]) for r in response.context["rows"]] == [
        (today, 3, True),
        (today - dt.timedelta(days=1), 7, False),
        (today - dt.timedelta(days=10), 12, False),
    ]
    table = html[html.index('id="trend-table"') :]
    assert re.findall(
        r"<tr><td>([0-9-]+)</td><td>(\d+)</td><td>5</td><td>(ja|nej)</td>", table
    ) == [
        (str(today), "3", "ja"),
        (str(today - dt.timedelta(days=1)), "7", "nej"),
        (str(today - dt.timedelta(days=10)), "12", "nej"),
    ]
    points = re.search(r'id="trend-line"[^>]*points="([^"]+)"', html).group(1).split()
    assert len(points) == 3
    # Oldest first, left to right: 12, 7, 3 (SVG's y grows downwards).
    xs = [float(p.split(",")[0]) for p in points]
    ys = [float(p.split(",")[1]) for p in points]
    assert xs == sorted(xs) and ys[0] < ys[1] < ys[2]
    target_y = float(re.search(r'id="target-line"[^>]*y1="([0-9.]+)"', html).group(1))
    assert ys[1] < target_y < ys[2]  # 5 lies between 7 and 3
    assert "<td>99</td>" not in table


def test_an_overview_has_no_target_line_and_an_empty_trend_says_so(odense, odense_admin_client):
    _snapshots(odense, "complaint", {0: 4})
    html = odense_admin_client.get(
        reverse("borgerblikket_admin:quality_trend", args=["461", "complaint"])
    ).content.decode()
    assert 'id="trend-line"' in html and 'id="target-line"' not in html
    empty = odense_admin_client.get(
        reverse("borgerblikket_admin:quality_trend", args=["461", "idle"])
    )
    assert 'id="no-snapshots"' in empty.content.decode()
    missing = odense_admin_client.get(
        reverse("borgerblikket_admin:quality_trend", args=["461", "no_such_check"])
    )
    assert missing.status_code == 404


def test_the_report_links_each_check_to_its_trend_for_a_manager_too(odense):
    manager = f.municipal_admin("461", username="manager")
    Membership.objects.filter(user=manager).update(role=Membership.Role.MANAGER)
    client = Client()
    client.force_login(manager)
    html = client.get(reverse("borgerblikket_admin:quality", args=["461"])).content.decode()
    for key in quality.CHECKS:
        assert reverse("borgerblikket_admin:quality_trend", args=["461", key]) in html
    trend = client.get(reverse("borgerblikket_admin:quality_trend", args=["461", "idle"]))
    assert trend.status_code == 200


# --- import of approved lists ---------------------------------------------------------------


def test_an_import_adds_the_files_lines_keeps_existing_and_names_bad_lines(
    odense, odense_admin_client
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    f.kle_subject("32.24.04", "Hjælp til forsørgelse")
    f.kle_subject("15.17.06", "Sygedagpengeopfølgning")
    f.kle_subject("32.24", "En gruppe")
    sbsys = f.SourceSystemFactory(municipality=odense, name="SBSYS")
    ApprovedKleNumber.objects.create(municipality=odense, unit="Jobcenter", kle_number="32.24.04")
    text = (
        "Enhed;KLE-nr.;Fagsystem\n"
        "Jobcenter;32.24.04;\n"  # there already
        "Jobcenter;15.17.06;\n"
        "Borgerservice;15.17.06;sbsys\n"
        "Borgerservice;32.24;\n"  # a group, not an emne
        ";15.17.06;\n"  # no unit
        "Ydelse;15.17.06;Acadre\n"  # no such system in Odense
        "\n"
    )
    upload = SimpleUploadedFile("liste.csv", text.encode("utf-8-sig"))
    response = odense_admin_client.post(
        reverse("admin:borgerblikket_approvedklenumber_import"),
        {"municipality": "461", "file": upload},
        follow=True,
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert shown[0] == "2 tilføjet, 1 fandtes, 3 afvist."
    assert shown[1:] == [
        "Linje 5: 32.24 er ikke et KLE-emne.",
        "Linje 6: Ingen enhed.",
        "Linje 7: Kommunen har intet fagsystem ved navn Acadre.",
    ]
    assert set(ApprovedKleNumber.objects.values_list("source_system_id", "unit", "kle_number")) == {
        (None, "Jobcenter", "32.24.04"),
        (None, "Jobcenter", "15.17.06"),
        (sbsys.pk, "Borgerservice", "15.17.06"),
    }


def test_an_import_without_the_columns_is_refused_as_a_whole(odense, odense_admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("liste.csv", b"Afdeling;Nummer\nJobcenter;32.24.04\n")
    response = odense_admin_client.post(
        reverse("admin:borgerblikket_approvedklenumber_import"),
        {"municipality": "461", "file": upload},
    )
    assert response.status_code == 200
    assert "Enhed" in str(response.context["form"].errors["file"])
    assert not ApprovedKleNumber.objects.exists()
