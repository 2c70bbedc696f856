"""Data-quality checks: each selector's counts per source system equal counts computed
directly in SQL here, on a varied generated data set."""

import csv
import datetime as dt
import io
import random
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Count
from django.urls import reverse

from borgerblikket.models import Sheet, SheetRow
from borgerblikket.selectors import quality
from tests.borgerblikket import factories as f
from tests.indexes import factories as ixf

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TZ = ZoneInfo("Europe/Copenhagen")
NOW = dt.datetime(2026, 6, 1, 12, tzinfo=TZ)
TITLES = [
    "Afslag på ansøgning om kontanthjælp",
    "Beslutning om revalidering",
    "Hvornår får jeg svar?",
    "Afgørelse vedr. sygedagpenge",
    "Ansøgning, kontanthjælp",
    "Partshøring\nandet afsnit",
    "0101701234",
    "2024-000123",
    "",
    "Ansøgning om hjælp fx til tandpleje",
    "Bevilling af fleksjob - Odense",
    "AFSLAG PÅ ANSØGNING OM ÆLDREBOLIG",
    "Bevilling af hjælp efter ATP-reglerne",
]
STATUS_TEXTS = ["", "B", "P", "Passiv", "A", "Afsluttet", "Lukket", "Under behandling"]
HISTORIES = [
    [("Opstaaet", -400)],
    [("Opstaaet", -30)],
    [("Opstaaet", -500), ("Oplyst", -300), ("Afgjort", -200)],
    [("Opstaaet", -120), ("Afgjort", -20)],
    [("Opstaaet", -700), ("Afgjort", -400), ("Afsluttet", -300)],
]


@pytest.fixture
def dataset():
    rng = random.Random(20260601)
    odense = f.municipality("461")
    systems = [
        f.SourceSystemFactory(municipality=odense, name="FASIT"),
        f.SourceSystemFactory(municipality=odense, name="SBSYS"),
    ]
    other = f.SourceSystemFactory(municipality=f.municipality("210"), name="Acadre")
    subjects = [
        f.kle_subject("32.24.04", "Hjælp til forsørgelse"),
        f.kle_subject("15.17.06", "Sygedagpengeopfølgning"),
        f.kle_subject("27.12.02", "Udgået emne", expired_on=dt.date(2015, 1, 1)),
    ]
    moved = f.kle_subject("00.10.16", "Flyttet emne")
    moved.moved_on = dt.date(2014, 11, 1)
    moved.save()
    subjects.append(moved)
    subjects.append(f.kle_subject("32.24", "En gruppe, ikke et emne"))
    facet = f.facet()
    SheetRow.objects.create(
        municipality=odense, kle_subject=subjects[0], show_from=dt.date(2024, 6, 1)
    )
    SheetRow.objects.create(
        municipality=odense,
        kle_subject=subjects[1],
        source_system=systems[0],
        show_from=dt.date(2020, 1, 1),
    )
    Sheet.objects.create(municipality=odense, idle_days=60, show_active_cases_before_show_from=True)
    cases = []
    for i in range(80):
        system = other if i % 10 == 9 else rng.choice(systems)
        history = rng.choice(HISTORIES)
        created = (NOW + dt.timedelta(days=history[0][1])).date()
        case = ixf.CaseFactory(
            source_system=system,
            external_id=f"q{i}",
            title=rng.choice(TITLES),
            kle_subject=rng.choice(subjects),
            facet=facet,
            party_cpr=rng.choice([None, "0101701111", "0202802222"]),
            primary_caseworker=rng.choice(["", "  ", "jens"]),
            source_status_text=rng.choice(STATUS_TEXTS),
            hidden_from_citizen=rng.random() < 0.2,
            retracted_at=NOW if rng.random() < 0.05 else None,
            created_on=created,
            progress=[(s, NOW + dt.timedelta(days=d)) for s, d in history],
        )
        cases.append(case)
    for i in range(50):
        case = rng.choice(cases)
        ixf.DocumentFactory(
            source_system=case.source_system,
            municipality=case.municipality,
            external_id=f"qd{i}",
            title=rng.choice(TITLES),
            kle_subject=rng.choice([None, *subjects[:3]]),
            letter_date=(NOW + dt.timedelta(days=rng.choice([-500, -90, -10]))).date(),
            received_at=NOW + dt.timedelta(days=rng.choice([-500, -90, -10])),
            cases=[case],
        )
    return odense


def sql_counts(sql: str, params) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: row[1] for row in cursor.fetchall()}


OPEN = "c.municipality_id = %(m)s AND c.retracted_at IS NULL AND c.status <> 'Afsluttet'"
LIVE = "c.municipality_id = %(m)s AND c.retracted_at IS NULL"
TITLE_BAD = r"""(
    {t} ~ '[\r\n]' OR {t} ~ '[.,;:!"“”„''()\[\]{{}}…]' OR {t} ~ '^[\s0-9-]*$'
    OR ({t} = upper({t}) AND {t} <> lower({t}))
    OR EXISTS (SELECT 1 FROM borgerblikket_titleabbreviation a
               WHERE {t} ~* ('(^|[^[:alnum:]])' || replace(a.text, '.', '[.]') || '([^[:alnum:]]|$)')))"""

NO_LEAD_WORD = r"""NOT EXISTS (SELECT 1 FROM borgerblikket_titleleadword w
    WHERE {t} ~* ('^\s*' || w.text || '([^[:alnum:]]|$)'))"""

SQL = {
    "kle": f"""SELECT c.source_system_id, count(*) FROM indexes_case c
        JOIN kle_subject s ON s.id = c.kle_subject_id
        WHERE {LIVE} AND (s.level <> 'emne' OR s.expired_on IS NOT NULL OR s.moved_on IS NOT NULL)
        GROUP BY 1""",
    "document_kle": f"""SELECT c.source_system_id, count(*) FROM indexes_casedocument l
        JOIN indexes_case c ON c.id = l.case_id JOIN indexes_document d ON d.id = l.document_id
        WHERE {LIVE} AND d.retracted_at IS NULL AND d.kle_subject_id IS NOT NULL
          AND d.kle_subject_id <> c.kle_subject_id GROUP BY 1""",
    "no_caseworker": f"""SELECT c.source_system_id, count(*) FROM indexes_case c
        WHERE {OPEN} AND trim(c.primary_caseworker) = '' GROUP BY 1""",
    "idle": f"""SELECT c.source_system_id, count(*) FROM indexes_case c
        WHERE {OPEN} AND c.created_on < (%(now)s - 60 * interval '1 day')::date
          AND c.last_changed_at < %(now)s - 60 * interval '1 day'
          AND NOT EXISTS (SELECT 1 FROM indexes_caseprogress p WHERE p.case_id = c.id
                          AND p.valid_from >= %(now)s - 60 * interval '1 day')
          AND NOT EXISTS (SELECT 1 FROM indexes_casedocument l JOIN indexes_document d ON d.id = l.document_id
                          WHERE l.case_id = c.id AND (d.received_at >= %(now)s - 60 * interval '1 day'
                          OR d.letter_date >= (%(now)s - 60 * interval '1 day')::date))
        GROUP BY 1""",
    "passive": f"""SELECT c.source_system_id, count(*) FROM indexes_case c
        WHERE {OPEN} AND lower(trim(c.source_status_text)) IN ('p', 'passiv')
          AND c.last_changed_at < %(now)s - 183 * interval '1 day' GROUP BY 1""",
    "not_closed": f"""SELECT c.source_system_id, count(*) FROM indexes_case c
        WHERE {OPEN} AND (lower(trim(c.source_status_text)) IN ('a', 'afsluttet', 'lukket', 'closed')
          OR EXISTS (SELECT 1 FROM indexes_caseprogress p WHERE p.case_id = c.id AND p.status = 'Afgjort'
                     AND p.valid_to IS NULL AND p.valid_from < %(now)s - 60 * interval '1 day'))
        GROUP BY 1""",
    "case_title": f"""SELECT c.source_system_id, count(*) FROM indexes_case c
        WHERE {LIVE} AND {TITLE_BAD.format(t="c.title")} GROUP BY 1""",
    "document_title": f"""SELECT d.source_system_id, count(*) FROM indexes_document d
        WHERE d.municipality_id = %(m)s AND d.retracted_at IS NULL AND {TITLE_BAD.format(t="d.title")}
        GROUP BY 1""",
    "case_lead_word": f"""SELECT c.source_system_id, count(*) FROM indexes_case c
        WHERE {LIVE} AND {NO_LEAD_WORD.format(t="c.title")} GROUP BY 1""",
    "document_lead_word": f"""SELECT d.source_system_id, count(*) FROM indexes_document d
        WHERE d.municipality_id = %(m)s AND d.retracted_at IS NULL
          AND {NO_LEAD_WORD.format(t="d.title")} GROUP BY 1""",
    "no_cpr": f"""SELECT c.source_system_id, count(*) FROM indexes_case c
        WHERE {LIVE} AND c.party_cpr IS NULL AND EXISTS (SELECT 1 FROM borgerblikket_sheetrow r
          WHERE r.municipality_id = c.municipality_id AND r.kle_subject_id = c.kle_subject_id)
        GROUP BY 1""",
}


@pytest.mark.parametrize("key", list(SQL))
def test_check_counts_equal_direct_sql(dataset, key):
    expected = sql_counts(SQL[key], {"m": "461", "now": NOW})
    check = quality.CHECKS[key]
    if "now" in check.offending.__code__.co_varnames:
        actual = {
            row[check.source_system_path]: row["n"]
            for row in check.offending(municipality=dataset, now=NOW)
            .order_by()
            .values(check.source_system_path)
            .annotate(n=Count("pk"))
        }
    else:
        actual = quality.check_counts(municipality=dataset, key=key)
    assert actual == expected
    assert sum(expected.values()) > 0, f"the data set never triggers {key}"


def test_invisibility_reasons_equal_direct_sql(dataset):
    expected = {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.source_system_id, CASE
              WHEN c.party_cpr IS NULL THEN 'no_cpr'
              WHEN NOT EXISTS (SELECT 1 FROM borgerblikket_sheetrow r WHERE r.municipality_id = c.municipality_id
                               AND r.kle_subject_id = c.kle_subject_id) THEN 'no_row'
              WHEN NOT EXISTS (SELECT 1 FROM borgerblikket_sheetrow r WHERE r.municipality_id = c.municipality_id
                               AND r.kle_subject_id = c.kle_subject_id
                               AND (r.source_system_id IS NULL OR r.source_system_id = c.source_system_id))
                THEN 'source_system'
              WHEN NOT EXISTS (SELECT 1 FROM borgerblikket_sheetrow r
                               LEFT JOIN borgerblikket_sheet s ON s.municipality_id = r.municipality_id
                               WHERE r.municipality_id = c.municipality_id AND r.kle_subject_id = c.kle_subject_id
                               AND (r.source_system_id IS NULL OR r.source_system_id = c.source_system_id)
                               AND (r.show_from <= c.created_on OR (c.status <> 'Afsluttet'
                                    AND coalesce(s.show_active_cases_before_show_from, false))))
                THEN 'before_show_from'
              WHEN c.hidden_from_citizen THEN 'hidden'
              ELSE 'visible' END AS reason, count(*)
            FROM indexes_case c WHERE c.municipality_id = '461' AND c.retracted_at IS NULL
            GROUP BY 1, 2
            """
        )
        for system, reason, n in cursor.fetchall():
            expected[(system, reason)] = n
    assert quality.invisibility_counts(municipality=dataset) == expected
    reasons = {reason for _, reason in expected}
    assert {"no_cpr", "no_row", "source_system", "hidden", "visible"} <= reasons


def test_title_problems_name_the_rule():
    f.municipality("461")
    assert quality.title_problems(title="Afslag på ansøgning om carport?") == []
    assert "tegnsætning" in quality.title_problems(title="Afslag, carport")
    assert "flere linjer" in quality.title_problems(title="Afslag\ncarport")
    assert "tom eller kun tal/CPR" in quality.title_problems(title="010170-1234")
    assert "kun store bogstaver" in quality.title_problems(title="AFSLAG PÅ ANSØGNING")
    assert "kun store bogstaver" in quality.title_problems(title="BREV TIL BORGER 2024")
    assert "kun store bogstaver" not in quality.title_problems(title="Afslag på ATP-tilskud")
    assert "kun store bogstaver" not in quality.title_problems(title="2021-0142")
    assert "kun store bogstaver" in quality.title_problems(title="ÆLDREBOLIG")
    assert any(
        p.startswith("forkortelse") for p in quality.title_problems(title="Hjælp fx tandpleje")
    )
    assert "intet indledende ord" in quality.title_problems(title="Kontanthjælp")
    assert "intet indledende ord" not in quality.title_problems(title="bevilling af hjælp")
    # A lead word must be a whole word: "Afslagsbrev" does not start with "Afslag".
    assert "intet indledende ord" in quality.title_problems(title="Afslagsbrev")


def test_lead_word_list_is_data_the_operator_edits(dataset):
    from borgerblikket.models import TitleLeadWord

    before = sum(quality.check_counts(municipality=dataset, key="case_lead_word").values())
    assert before > 0
    TitleLeadWord.objects.create(text="Hvornår")
    after = sum(quality.check_counts(municipality=dataset, key="case_lead_word").values())
    hvornaar = quality.cases_without_lead_word(municipality=dataset).filter(
        title__startswith="Hvornår"
    )
    assert after < before and not hvornaar.exists()
    TitleLeadWord.objects.all().delete()
    assert not quality.cases_without_lead_word(municipality=dataset).exists()


def test_report_page_drilldown_and_csv(client, dataset):
    client.force_login(f.municipal_admin("461"))
    response = client.get(reverse("borgerblikket_admin:quality", args=["461"]))
    assert response.status_code == 200
    rows = {row["key"]: row for row in response.context["check_rows"]}
    assert rows["no_caseworker"]["total"] == sum(
        quality.check_counts(municipality=dataset, key="no_caseworker").values()
    )
    system = response.context["systems"][0]
    url = reverse("borgerblikket_admin:quality_check", args=["461", "no_caseworker"])
    page = client.get(url, {"source_system": system.pk})
    expected = quality.open_cases_without_caseworker(municipality=dataset).filter(
        source_system=system
    )
    assert page.context["page"].paginator.count == expected.count()
    body = page.content.decode()
    assert "0101701111" not in body  # CPR masked
    csv_response = client.get(url, {"source_system": system.pk, "format": "csv"})
    text = b"".join(csv_response.streaming_content).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert len(lines) == expected.count() + 1
    assert lines[0][:3] == ["Sagsnummer", "Titel", "Part (CPR)"]
    assert "0101701111" not in text
    invisible = client.get(reverse("borgerblikket_admin:quality_invisible", args=["461", "hidden"]))
    assert invisible.status_code == 200
