"""KLE releases in the sheets: two releases imported in turn give each municipality its impact
report; a row moves to its successors with a preview and history; no citizen loses a case;
cases on a successor the sheet does not show are flagged in data quality."""

import datetime as dt

import pytest

from borgerblikket.models import KleImpactItem, KleImpactReport, KleRelease, SheetChange, SheetRow
from borgerblikket.selectors import cases_visible_to_citizen, quality
from borgerblikket.services.kle_releases import (
    MoveError,
    kle_release_sync,
    kle_releases_build_pending,
    sheet_row_move,
    sheet_row_move_plan,
    successors_proposed,
)
from borgerblikket.services.sheets import sheet_change_revert, sheet_row_save
from kle.models import Subject, Succession, SyncSource
from kle.services.importer import kle_import
from tests.borgerblikket import factories as f
from tests.kle.release_server import (  # noqa: F401 - kle_online is a fixture
    NEWER_EMNEPLAN,
    OLDER_EMNEPLAN,
    kle_online,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ODENSE, FREDENSBORG, SYDDJURS = "461", "210", "706"
CPR = "0101701234"


def subject(number: str) -> Subject:
    return Subject.objects.get(number=number)


def row(code: str, number: str, **values) -> SheetRow:
    values = {"show_from": dt.date(2020, 1, 1), **values}
    saved, _ = sheet_row_save(
        municipality=f.municipality(code), kle_subject=subject(number), values=values, user=None
    )
    return saved


@pytest.fixture
def older_world():
    """The fixture release of 2015-08-01 imported, and three municipalities' sheets."""
    kle_import(source=str(OLDER_EMNEPLAN))
    fasit = f.SourceSystemFactory(municipality=f.municipality(ODENSE), name="FASIT Odense")
    world = {
        "fasit": fasit,
        "jobafklaring": row(
            ODENSE,
            "15.17.26",
            display_name="Jobafklaring",
            source_system=fasit,
            show_from=dt.date(2021, 1, 1),
            contact_department="Jobcenter Odense",
            contact_phone="66131372",
            info_url="https://www.odense.dk/jobafklaring",
        ),
        "dagpenge": row(ODENSE, "15.62.05"),
        "sygedagpenge": row(ODENSE, "15.17.06"),
        "fredensborg": row(FREDENSBORG, "15.62.05"),
        "syddjurs": row(SYDDJURS, "15.17.06"),
        # A citizen's case on the number that will move, seen today.
        "old_case": f.CaseFactory(
            source_system=fasit,
            party_cpr=CPR,
            kle_subject=subject("15.17.26"),
            created_on=dt.date(2021, 6, 1),
            case_number="2021-000026",
        ),
    }
    return world


def import_newer() -> KleRelease:
    report = kle_import(source=str(NEWER_EMNEPLAN))
    releases = kle_releases_build_pending()
    assert releases[-1].publication_id == report.publication_id
    return releases[-1]


def items_of(code: str) -> dict[str, KleImpactItem]:
    return {
        item.kle_number: item for item in KleImpactItem.objects.filter(report__municipality_id=code)
    }


def test_two_releases_in_turn_give_each_municipality_its_impact_report(older_world):
    first = kle_releases_build_pending()
    assert [r.publication.published_on for r in first] == [dt.date(2015, 8, 1)]
    assert first[0].row_count == 0 and not KleImpactReport.objects.exists()

    release = import_newer()

    assert release.publication.published_on == dt.date(2016, 1, 1)
    assert (release.expired_count, release.moved_count, release.row_count) == (1, 1, 3)
    assert set(
        KleImpactReport.objects.filter(release=release).values_list("municipality_id", flat=True)
    ) == {ODENSE, FREDENSBORG}  # Syddjurs shows nothing that expired or moved
    odense = items_of(ODENSE)
    assert set(odense) == {"15.17.26", "15.62.05"}
    moved = odense["15.17.26"]
    assert moved.change == KleImpactItem.Change.MOVED
    assert moved.changed_on == dt.date(2016, 1, 1)
    assert moved.kle_title == "Jobafklaringsforløb [udgået]"
    assert moved.successor_numbers == ["15.17.27", "15.17.28"]
    assert moved.proposed_numbers == ["15.17.27", "15.17.28"]
    assert moved.case_count == 1
    assert moved.sheet_row == older_world["jobafklaring"]
    assert moved.is_open
    expired = odense["15.62.05"]
    assert (expired.change, expired.changed_on) == ("expired", dt.date(2016, 1, 1))
    assert (expired.successor_numbers, expired.proposed_numbers, expired.case_count) == ([], [], 0)
    assert set(items_of(FREDENSBORG)) == {"15.62.05"}
    # Built once: another run finds nothing new.
    assert kle_releases_build_pending() == []


def test_the_scheduled_sync_imports_the_newer_release_and_builds_its_report_once(
    settings,
    kle_online,  # noqa: F811
):
    settings.KLE_SYNC_API_BASE = kle_online.base_url
    kle_release_sync()
    row(ODENSE, "15.17.26")
    kle_online.publish("emneplan", NEWER_EMNEPLAN, on=dt.date(2016, 1, 1))

    report, releases = kle_release_sync()

    assert [r.publication.published_on for r in releases] == [dt.date(2016, 1, 1)]
    assert set(items_of(ODENSE)) == {"15.17.26"}
    # Nothing new at KLE-online: a 304, and no second report.
    report, releases = kle_release_sync()
    assert [s.outcome for s in report.steps] == [SyncSource.Outcome.NOT_MODIFIED] * 2
    assert releases == []
    assert KleImpactReport.objects.count() == 1


def test_successors_are_followed_through_later_moves_and_only_active_emner_proposed(db):
    a = f.kle_subject("15.17.90", "A")
    b = f.kle_subject("15.17.91", "B")
    c = f.kle_subject("15.17.92", "C")
    d = f.kle_subject("15.17.93", "D", expired_on=dt.date(2016, 1, 1))
    group = f.kle_subject("15.18", "En gruppe")
    Subject.objects.filter(pk__in=[a.pk, b.pk]).update(moved_on=dt.date(2016, 1, 1))
    for predecessor, successor in ((a, b), (a, group), (b, c), (b, d), (b, a)):
        Succession.objects.create(predecessor=predecessor, successor=successor)
    assert [s.number for s in successors_proposed(subject=subject("15.17.90"))] == ["15.17.92"]


def test_the_preview_shows_the_sheet_after_the_move_and_saves_nothing(older_world):
    import_newer()
    item = items_of(ODENSE)["15.17.26"]
    changes_before = SheetChange.objects.count()

    plan = sheet_row_move_plan(item=item)

    # A case lies on the old number: the old row stays, so its citizen keeps seeing it.
    assert plan.case_count == 1 and plan.remove_old is False
    assert plan.added == ["15.17.27", "15.17.28"]
    assert [(r.kle_number, r.state) for r in plan.sheet_after] == [
        ("15.17.06", "unchanged"),
        ("15.17.26", "kept"),
        ("15.17.27", "added"),
        ("15.17.28", "added"),
        ("15.62.05", "unchanged"),
    ]
    added = plan.sheet_after[2]
    assert (added.name, added.show_from, added.source_system, added.contact_department) == (
        "Jobafklaringsforløb, sygedagpenge",
        dt.date(2021, 1, 1),
        "FASIT Odense",
        "Jobcenter Odense",
    )
    removing = sheet_row_move_plan(item=item, remove_old=True)
    assert ("15.17.26", "removed") in [(r.kle_number, r.state) for r in removing.sheet_after]
    assert SheetChange.objects.count() == changes_before
    assert SheetRow.objects.filter(municipality_id=ODENSE).count() == 3


def test_the_move_copies_the_row_to_each_successor_with_history(older_world):
    import_newer()
    item = items_of(ODENSE)["15.17.26"]
    admin = f.municipal_admin(ODENSE)

    changes = sheet_row_move(item=item, user=admin)

    rows = {
        r.kle_subject.number: r
        for r in SheetRow.objects.filter(municipality_id=ODENSE).select_related("kle_subject")
    }
    assert set(rows) == {"15.17.06", "15.17.26", "15.17.27", "15.17.28", "15.62.05"}
    old = older_world["jobafklaring"]
    for number in ("15.17.27", "15.17.28"):
        new = rows[number]
        assert new.display_name == ""  # KLE's own title of the successor
        for name in (
            "source_system_id",
            "show_from",
            "contact_department",
            "contact_phone",
            "info_url",
        ):
            assert getattr(new, name) == getattr(old, name), name
    assert [(c.kle_number, c.action, c.via, c.user) for c in changes] == [
        ("15.17.27", "created", "kle_move", admin),
        ("15.17.28", "created", "kle_move", admin),
    ]
    item.refresh_from_db()
    assert (item.resolution, item.resolved_by) == ("moved", admin) and not item.is_open
    with pytest.raises(MoveError, match="allerede flyttet"):
        sheet_row_move(item=item, user=admin)


def test_removing_the_old_row_is_in_the_history_and_can_be_reverted(older_world):
    older_world["old_case"].delete()
    import_newer()
    item = items_of(ODENSE)["15.17.26"]
    assert sheet_row_move_plan(item=item).remove_old is True  # no case on the old number

    changes = sheet_row_move(item=item, user=None)

    assert [(c.kle_number, c.action) for c in changes] == [
        ("15.17.27", "created"),
        ("15.17.28", "created"),
        ("15.17.26", "deleted"),
    ]
    assert not SheetRow.objects.filter(kle_subject__number="15.17.26").exists()
    item.refresh_from_db()
    assert item.sheet_row is None and item.resolution == "moved"
    sheet_change_revert(change=changes[-1], user=None)
    assert SheetRow.objects.get(kle_subject__number="15.17.26").display_name == "Jobafklaring"


def test_a_successor_already_on_the_sheet_is_left_as_it_is(older_world):
    import_newer()
    mine = row(ODENSE, "15.17.27", contact_department="Eget kontor")
    item = items_of(ODENSE)["15.17.26"]

    plan = sheet_row_move_plan(item=item)
    assert plan.already_present == ["15.17.27"] and plan.added == ["15.17.28"]
    changes = sheet_row_move(item=item, user=None)

    assert [c.kle_number for c in changes] == ["15.17.28"]
    mine.refresh_from_db()
    assert mine.contact_department == "Eget kontor"


def test_an_expired_number_without_successor_cannot_be_moved(older_world):
    import_newer()
    with pytest.raises(MoveError, match="ingen afløser"):
        sheet_row_move_plan(item=items_of(ODENSE)["15.62.05"])


def test_a_row_removed_by_hand_is_no_longer_open_or_movable(older_world):
    import_newer()
    older_world["jobafklaring"].delete()
    item = items_of(ODENSE)["15.17.26"]
    assert not item.is_open
    with pytest.raises(MoveError, match="findes ikke længere"):
        sheet_row_move(item=item, user=None)


def test_no_citizen_loses_a_case_and_the_successor_case_becomes_visible(older_world):
    """The source system has already reclassified one case to the successor; the other
    is still on the old number. After the move the citizen sees both."""
    import_newer()
    new_case = f.CaseFactory(
        source_system=older_world["fasit"],
        party_cpr=CPR,
        kle_subject=subject("15.17.27"),
        created_on=dt.date(2021, 6, 1),
        case_number="2021-000027",
    )

    def seen() -> set[str]:
        return set(cases_visible_to_citizen(cpr=CPR).values_list("case_number", flat=True))

    assert seen() == {"2021-000026"}  # the successor's case is not shown yet
    sheet_row_move(item=items_of(ODENSE)["15.17.26"], user=None)
    assert seen() == {"2021-000026", "2021-000027"}
    assert new_case.case_number in seen()


def test_cases_on_a_successor_the_sheet_does_not_show_are_flagged(older_world):
    import_newer()
    fasit = older_world["fasit"]
    flagged_case = f.CaseFactory(
        source_system=fasit, kle_subject=subject("15.17.28"), case_number="2021-000028"
    )
    # Syddjurs never showed 15.17.26: its cases on the successor are no KLE-move problem.
    f.CaseFactory(
        source_system=f.SourceSystemFactory(municipality=f.municipality(SYDDJURS)),
        kle_subject=subject("15.17.28"),
    )
    odense, syddjurs = f.municipality(ODENSE), f.municipality(SYDDJURS)
    check = quality.CHECKS["kle_successor"]

    assert list(check.offending(municipality=odense)) == [flagged_case]
    assert quality.check_counts(municipality=odense, key="kle_successor") == {fasit.pk: 1}
    assert not check.offending(municipality=syddjurs).exists()

    sheet_row_move(item=items_of(ODENSE)["15.17.26"], user=None)
    assert not check.offending(municipality=odense).exists()
