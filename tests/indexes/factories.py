"""factory_boy factories for the indexes and KLE, plus builders of wire-format records.

Shared by every app's tests. The KLE items made here are hand-written test
data, not KL's (whose data must not be committed).

- ``SubjectFactory(number="32.18.02")`` creates the hovedgruppe and gruppe above
  an emne as needed (get-or-create by number, so it is safe to repeat).
- ``MunicipalityFactory`` returns one of the 98 municipalities the data
  migration loaded (default Odense, 461); it never invents one.
- ``CaseFactory`` writes a case with a progress history (default: Opstaaet on
  ``created_on``) and derives ``status``/``last_changed_at`` with the same rule
  as ingestion. Pass ``progress=[("Opstaaet", dt), ("Afgjort", dt2)]``; each
  period ends where the next begins, the last is open.
- ``case_payload(...)`` & co. build records in the wire format of
  ``indexes.payloads`` and make sure the KLE items they name exist.
"""

import datetime
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

import factory
from django.utils import timezone

from indexes.models import (
    BenefitKind,
    BenefitStatus,
    Case,
    CaseDocument,
    CaseProgress,
    Document,
    DocumentRole,
    DocumentStatus,
    DocumentType,
    Grant,
    GrantedBenefit,
    Municipality,
    Payment,
    PaymentPlan,
    PaymentTiming,
    ProgressStatus,
    SourceSystem,
)
from indexes.services.cases import case_status_derive
from kle.models import Facet, FacetCategory, Subject

TZ = ZoneInfo("Europe/Copenhagen")
# Syntactically valid CPR numbers (python-stdnum accepts them); not real people's.
CPR = "0101701234"
OTHER_CPR = "0202802345"
CVR = "13585490"  # check digit valid (stdnum.dk.cvr)
DEFAULT_KLE = "32.18.02"
DEFAULT_FACET = "G01"
_ids = itertools.count(1)


def aware(year: int, month: int = 1, day: int = 1, hour: int = 12) -> datetime.datetime:
    """An aware Copenhagen datetime, for short test data."""
    return datetime.datetime(year, month, day, hour, tzinfo=TZ)


# --- KLE -------------------------------------------------------------------------------


def _level_of(number: str) -> str:
    return {1: Subject.Level.MAIN_GROUP, 2: Subject.Level.GROUP, 3: Subject.Level.TOPIC}[
        number.count(".") + 1
    ]


class SubjectFactory(factory.django.DjangoModelFactory):
    """A KLE number of any level; its parents are created on the way (``get_or_create``)."""

    class Meta:
        model = Subject
        django_get_or_create = ("number",)

    number = DEFAULT_KLE
    level = factory.LazyAttribute(lambda o: _level_of(o.number))
    title = factory.LazyAttribute(lambda o: f"Testemne {o.number}")
    created_on = datetime.date(1990, 1, 1)
    parent = factory.LazyAttribute(
        lambda o: SubjectFactory(number=o.number.rsplit(".", 1)[0]) if "." in o.number else None
    )


class FacetCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FacetCategory
        django_get_or_create = ("code",)

    code = "G"
    title = factory.LazyAttribute(lambda o: f"Testkategori {o.code}")


class FacetFactory(factory.django.DjangoModelFactory):
    """A handlingsfacet; its category (the code's letter) is created on the way."""

    class Meta:
        model = Facet
        django_get_or_create = ("code",)

    code = DEFAULT_FACET
    title = factory.LazyAttribute(lambda o: f"Testfacet {o.code}")
    category = factory.LazyAttribute(lambda o: FacetCategoryFactory(code=o.code[0]))


def kle_ensure(*numbers: str, facets: tuple[str, ...] = (DEFAULT_FACET,)) -> None:
    """Make sure these KLE emner and facets exist (test data)."""
    for number in numbers or (DEFAULT_KLE,):
        SubjectFactory(number=number)
    for code in facets:
        FacetFactory(code=code)


# --- registry --------------------------------------------------------------------------


class MunicipalityFactory(factory.django.DjangoModelFactory):
    """One of the 98 real municipalities (loaded by migration 0002); default Odense."""

    class Meta:
        model = Municipality
        django_get_or_create = ("code",)

    code = "461"
    name = factory.LazyAttribute(lambda o: Municipality.objects.get(code=o.code).name)


class SourceSystemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SourceSystem

    municipality = factory.SubFactory(MunicipalityFactory)
    product = SourceSystem.Product.SBSYS
    name = factory.Sequence(lambda n: f"Testsystem {n}")


# --- case and document index ----------------------------------------------------------


class CaseFactory(factory.django.DjangoModelFactory):
    """A case with its progress history: ``CaseFactory(progress=[(status, from), ...])``."""

    class Meta:
        model = Case
        skip_postgeneration_save = True

    source_system = factory.SubFactory(SourceSystemFactory)
    municipality = factory.SelfAttribute("source_system.municipality")
    external_id = factory.Sequence(lambda n: f"case-{n}")
    source_timestamp = factory.LazyFunction(timezone.now)
    received_at = factory.LazyFunction(timezone.now)
    case_number = factory.Sequence(lambda n: f"2024-{n:06d}")
    title = factory.Sequence(lambda n: f"Ansøgning om hjælp {n}")
    kle_subject = factory.SubFactory(SubjectFactory)
    facet = factory.SubFactory(FacetFactory)
    party_cpr = CPR
    created_on = datetime.date(2024, 3, 1)
    # Both are re-derived from the history by the ``progress`` hook below.
    status = ProgressStatus.OPENED
    last_changed_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def progress(obj, create, extracted, **kwargs):
        periods = progress_periods(extracted, created_on=obj.created_on)
        obj.status, obj.last_changed_at = case_status_derive(progress=periods, at=timezone.now())
        if not create:
            return
        CaseProgress.objects.bulk_create(
            CaseProgress(case=obj, status=p["status"], valid_from=p["from"], valid_to=p["to"])
            for p in periods
        )
        Case.objects.filter(pk=obj.pk).update(
            status=obj.status, last_changed_at=obj.last_changed_at
        )


def progress_periods(spec, *, created_on: datetime.date | None = None) -> list[dict]:
    """``[(status, from), ...]`` → periods; each ends where the next begins, the last is open.

    Without a spec: Opstaaet from 09:00 on ``created_on``.
    """
    if spec is None:
        day = created_on or datetime.date(2024, 3, 1)
        spec = [("Opstaaet", datetime.datetime(day.year, day.month, day.day, 9, tzinfo=TZ))]
    periods = []
    for index, (status, start) in enumerate(spec):
        end = spec[index + 1][1] if index + 1 < len(spec) else None
        periods.append({"status": status, "from": start, "to": end})
    return periods


class DocumentFactory(factory.django.DjangoModelFactory):
    """A document; ``cases=[case, ...]`` links it (role ``Tilakteret``, or ``role=...``)."""

    class Meta:
        model = Document
        skip_postgeneration_save = True

    source_system = factory.SubFactory(SourceSystemFactory)
    municipality = factory.SelfAttribute("source_system.municipality")
    external_id = factory.Sequence(lambda n: f"doc-{n}")
    source_timestamp = factory.LazyFunction(timezone.now)
    received_at = factory.LazyFunction(timezone.now)
    title = factory.Sequence(lambda n: f"Afgørelse om hjælp {n}")
    letter_date = datetime.date(2024, 3, 5)
    type = DocumentType.OUTGOING_LETTER
    status = DocumentStatus.FINAL

    @factory.post_generation
    def cases(obj, create, extracted, role=DocumentRole.FILED, **kwargs):
        if create and extracted:
            for case in extracted:
                CaseDocument.objects.create(case=case, document=obj, role=role)


class CaseDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseDocument

    case = factory.SubFactory(CaseFactory)
    document = factory.SubFactory(
        DocumentFactory, source_system=factory.SelfAttribute("..case.source_system")
    )
    role = DocumentRole.FILED


# --- benefit index --------------------------------------------------------------------


class GrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grant

    source_system = factory.SubFactory(SourceSystemFactory)
    municipality = factory.SelfAttribute("source_system.municipality")
    external_id = factory.Sequence(lambda n: f"grant-{n}")
    source_timestamp = factory.LazyFunction(timezone.now)
    received_at = factory.LazyFunction(timezone.now)
    case_number = factory.Sequence(lambda n: f"B-2024-{n:05d}")
    party_cpr = CPR
    start_on = datetime.date(2024, 1, 1)
    status = BenefitStatus.ACTIVE


class GrantedBenefitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GrantedBenefit

    grant = factory.SubFactory(GrantFactory)
    external_id = factory.Sequence(lambda n: f"benefit-{n}")
    name = "Kontanthjælp"
    kind = BenefitKind.ECONOMIC
    kle_subject = factory.SubFactory(SubjectFactory, number="32.18.02")
    start_on = datetime.date(2024, 1, 1)
    status = BenefitStatus.ACTIVE


class PaymentPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaymentPlan

    benefit = factory.SubFactory(GrantedBenefitFactory)
    frequency = "Månedlig"
    timing = PaymentTiming.IN_ARREARS
    payment_day = "Sidste bankdag i måneden"
    amount = Decimal("12345.67")


class PaymentFactory(factory.django.DjangoModelFactory):
    """A payment; party and source system follow its benefit's grant."""

    class Meta:
        model = Payment

    benefit = factory.SubFactory(GrantedBenefitFactory)
    source_system = factory.SelfAttribute("benefit.grant.source_system")
    municipality = factory.SelfAttribute("benefit.grant.municipality")
    party_cpr = factory.SelfAttribute("benefit.grant.party_cpr")
    external_id = factory.Sequence(lambda n: f"payment-{n}")
    source_timestamp = factory.LazyFunction(timezone.now)
    received_at = factory.LazyFunction(timezone.now)
    disposal_date = datetime.date(2024, 2, 29)
    period_start = datetime.date(2024, 2, 1)
    period_end = datetime.date(2024, 2, 29)
    gross_amount = Decimal("12345.67")
    amount_after_tax = Decimal("8765.43")


# --- wire-format records (indexes.payloads) ----------------------------------------------


def next_id(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def case_payload(*, municipality: str = "461", **overrides) -> dict:
    """A valid case record; KLE ``kle_number`` and ``facet`` are created if missing."""
    external_id = overrides.get("external_id") or next_id("case")
    record = {
        "external_id": external_id,
        "source_timestamp": "2024-05-01T10:00:00+02:00",
        "municipality": municipality,
        "case_number": f"S-{external_id}",
        "title": "Ansøgning om kontanthjælp",
        "kle_number": DEFAULT_KLE,
        "facet": DEFAULT_FACET,
        "party": {"cpr": CPR},
        "created_on": "2024-04-02",
        "progress": [
            {
                "status": "Opstaaet",
                "from": "2024-04-02T09:00:00+02:00",
                "to": "2024-04-20T09:00:00+02:00",
            },
            {"status": "Oplyst", "from": "2024-04-20T09:00:00+02:00"},
        ],
    }
    record.update(overrides)
    if _kle_like(record):
        kle_ensure(record["kle_number"], facets=(record["facet"],))
    return record


def document_payload(*, case_external_ids: list[str], municipality: str = "461", **overrides):
    """A valid document record linked (Tilakteret) to the given cases."""
    record = {
        "external_id": overrides.get("external_id") or next_id("doc"),
        "source_timestamp": "2024-05-02T10:00:00+02:00",
        "municipality": municipality,
        "title": "Afgørelse om kontanthjælp",
        "letter_date": "2024-05-02",
        "type": "Brev, udgaaende",
        "status": "Endeligt",
        "cases": [{"case_external_id": e, "role": "Tilakteret"} for e in case_external_ids],
    }
    record.update(overrides)
    return record


def benefit_payload(**overrides) -> dict:
    """A valid economic benefit with a monthly payment plan."""
    record = {
        "external_id": overrides.get("external_id") or next_id("ydelse"),
        "name": "Kontanthjælp",
        "kind": "oekonomisk",
        "kle_number": DEFAULT_KLE,
        "start_on": "2024-04-01",
        "status": "Aktiv",
        "payment_plan": {
            "frequency": "Månedlig",
            "timing": "Bagud",
            "payment_day": "Sidste bankdag i måneden",
            "amount": "12345.67",
        },
    }
    record.update(overrides)
    if isinstance(record.get("kle_number"), str) and record["kle_number"].count(".") == 2:
        SubjectFactory(number=record["kle_number"])
    return record


def grant_payload(*, municipality: str = "461", benefits: list[dict] | None = None, **overrides):
    """A valid grant record with one economic benefit (unless ``benefits`` is given)."""
    record = {
        "external_id": overrides.get("external_id") or next_id("grant"),
        "source_timestamp": "2024-05-01T10:00:00+02:00",
        "municipality": municipality,
        "case_number": "B-2024-1",
        "party": {"cpr": CPR},
        "start_on": "2024-04-01",
        "status": "Aktiv",
        "benefits": benefits if benefits is not None else [benefit_payload()],
    }
    record.update(overrides)
    return record


def payment_payload(
    *, grant_external_id: str, benefit_external_id: str, municipality: str = "461", **overrides
):
    """A valid payment record of the given grant's benefit."""
    record = {
        "external_id": overrides.get("external_id") or next_id("payment"),
        "source_timestamp": "2024-05-31T10:00:00+02:00",
        "municipality": municipality,
        "grant_external_id": grant_external_id,
        "benefit_external_id": benefit_external_id,
        "disposal_date": "2024-05-31",
        "period": {"start": "2024-05-01", "end": "2024-05-31"},
        "gross_amount": "12345.67",
        "amount_after_tax": "8765.43",
    }
    record.update(overrides)
    return record


def _kle_like(record: dict) -> bool:
    number, facet = record.get("kle_number"), record.get("facet")
    return (
        isinstance(number, str)
        and number.count(".") == 2
        and isinstance(facet, str)
        and len(facet) == 3
    )
