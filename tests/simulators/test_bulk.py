"""`manage.py simulate`: a realistic population via COPY that keeps every constraint."""

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import F
from django.utils import timezone
from stdnum.dk import cpr as stdnum_cpr

from indexes.models import (
    Case,
    CaseDocument,
    CaseProgress,
    Document,
    Grant,
    GrantedBenefit,
    Payment,
    PaymentPlan,
)
from simulators import bulk
from simulators.bulk import PopulationError, population_load

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
TABLES = [Case, CaseProgress, Document, CaseDocument, Grant, GrantedBenefit, PaymentPlan, Payment]


def constraints_and_indexes() -> set[tuple]:
    names = [model._meta.db_table for model in TABLES]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = ANY(%s::regclass[])",
            [names],
        )
        constraints = set(cursor.fetchall())
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = ANY(%s::regclass[])",
            [names],
        )
        return constraints | set(cursor.fetchall())


def test_a_population_has_everything_linked_and_the_schema_is_whole_again(kle):
    before = constraints_and_indexes()

    report = population_load(citizens=400, municipalities=3, seed=3)

    assert constraints_and_indexes() == before  # every index and constraint rebuilt
    assert report.citizens == 400
    assert report.rows["case"] == Case.objects.count() > 400
    for name, model in zip(report.rows, TABLES, strict=True):
        assert report.rows[name] == model.objects.count() > 0, name
    assert set(Case.objects.values_list("municipality_id", flat=True)) == {"461", "706", "210"}
    assert not Case.objects.filter(progress__isnull=True).exists()
    assert not Document.objects.filter(case_links__isnull=True).exists()
    for case in Case.objects.order_by("?")[:50]:
        history = list(case.progress.order_by("valid_from"))
        assert case.status == history[-1].status and history[-1].valid_to is None
        # The last change is the last status change, or the wait for the citizen when later.
        assert case.last_changed_at == max(
            history[-1].valid_from, case.awaiting_party_since or history[-1].valid_from
        )
        if case.party_cpr:
            assert stdnum_cpr.is_valid(case.party_cpr)
    for payment in Payment.objects.order_by("?")[:50]:
        assert 0 <= payment.amount_after_tax <= payment.gross_amount
        assert payment.party_cpr == payment.benefit.grant.party_cpr
    # "Afventer dig": a share of the open cases wait, since a day after their last change.
    open_cases = Case.objects.exclude(status="Afsluttet")
    waiting = open_cases.filter(awaiting_party_since__isnull=False)
    assert 0.02 <= waiting.count() / open_cases.count() <= 0.12
    assert not Case.objects.filter(status="Afsluttet", awaiting_party_since__isnull=False).exists()
    assert not waiting.exclude(awaiting_party_since=F("last_changed_at")).exists()
    assert not waiting.filter(awaiting_party_since__lte=F("progress__valid_from")).exists()
    assert not waiting.filter(awaiting_party_since__gt=timezone.now()).exists()


def test_two_runs_never_collide(kle):
    first = population_load(citizens=100, municipalities=1, seed=1)
    second = population_load(citizens=100, municipalities=1, seed=1)
    assert Case.objects.count() == first.cases + second.cases
    assert Case.objects.values("case_number").distinct().count() == Case.objects.count()


def test_the_command_prints_the_rate(kle):
    out = io.StringIO()
    call_command("simulate", citizens=50, municipalities=2, stdout=out)
    assert re.search(
        r"50 citizens in 2 municipalities: [\d,]+ case, .* [\d,]+ cases/s", out.getvalue()
    )


def test_bad_requests_are_refused_with_the_reason(kle, monkeypatch):
    with pytest.raises(CommandError, match="municipalities must be between 1 and 98"):
        call_command("simulate", citizens=10, municipalities=99)
    with pytest.raises(PopulationError, match="citizens must be at least 1"):
        population_load(citizens=0, municipalities=1)
    monkeypatch.setattr(bulk.connection, "vendor", "sqlite")
    with pytest.raises(PopulationError, match="PostgreSQL COPY"):
        population_load(citizens=10, municipalities=1)
    assert not Case.objects.exists()
