"""Small factories for borgerblikket's tests.

The indexes engineer's ``tests/indexes/factories.py`` is the shared set; these
cover what borgerblikket needs until (and beside) it, and build KLE subjects
from a small hand-written fixture (the real KLE is never committed).
"""

import datetime as dt
import itertools

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from borgerblikket.models import Membership, Sheet, SheetRow
from indexes.models import (
    Case,
    CaseDocument,
    Document,
    DocumentRole,
    DocumentType,
    Grant,
    GrantedBenefit,
    Municipality,
    Payment,
    SourceSystem,
)
from kle.models import Facet, FacetCategory, Subject

_cpr_serial = itertools.count(1000)


def cpr_number() -> str:
    """A fresh, well-formed CPR number (born 1 Jan 1970; serials never repeat)."""
    return f"010170{next(_cpr_serial) % 10000:04d}"


def municipality(code: str = "461") -> Municipality:
    """One of the 98 municipalities (the indexes' data migration loads them)."""
    return Municipality.objects.get(code=code)


def kle_subject(number: str, title: str = "", *, expired_on: dt.date | None = None) -> Subject:
    """A KLE subject with its parents (created when missing)."""
    parts = number.split(".")
    parent = None
    for depth in range(1, len(parts) + 1):
        prefix = ".".join(parts[:depth])
        level = {1: Subject.Level.MAIN_GROUP, 2: Subject.Level.GROUP, 3: Subject.Level.TOPIC}[depth]
        is_leaf = depth == len(parts)
        parent, _ = Subject.objects.get_or_create(
            number=prefix,
            defaults={
                "level": level,
                "parent": parent,
                "title": (title or f"Emne {prefix}") if is_leaf else f"Gruppe {prefix}",
                "expired_on": expired_on if is_leaf else None,
            },
        )
    return parent


def facet(code: str = "G01") -> Facet:
    category, _ = FacetCategory.objects.get_or_create(
        code=code[0], defaults={"title": f"Kategori {code[0]}"}
    )
    return Facet.objects.get_or_create(
        code=code, defaults={"category": category, "title": f"Facet {code}"}
    )[0]


class SourceSystemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SourceSystem

    municipality = factory.LazyFunction(lambda: municipality("461"))
    product = SourceSystem.Product.FASIT
    name = factory.Sequence(lambda n: f"System {n}")


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    source_system = factory.SubFactory(SourceSystemFactory)
    municipality = factory.LazyAttribute(lambda o: o.source_system.municipality)
    external_id = factory.Sequence(lambda n: f"case-{n}")
    source_timestamp = factory.LazyFunction(timezone.now)
    received_at = factory.LazyFunction(timezone.now)
    case_number = factory.Sequence(lambda n: f"2024-{n:06d}")
    title = "Afgørelse om kontanthjælp"
    alternative_title = "INTERN: sagsbehandlers egen titel"
    primary_caseworker = "Sagsbehandler Hemmelig"
    kle_subject = factory.LazyFunction(lambda: kle_subject("32.24.04", "Hjælp til forsørgelse"))
    facet = factory.LazyFunction(facet)
    party_cpr = factory.LazyFunction(cpr_number)
    created_on = dt.date(2021, 3, 1)
    last_changed_at = factory.LazyFunction(timezone.now)


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Document

    source_system = factory.SubFactory(SourceSystemFactory)
    municipality = factory.LazyAttribute(lambda o: o.source_system.municipality)
    external_id = factory.Sequence(lambda n: f"doc-{n}")
    source_timestamp = factory.LazyFunction(timezone.now)
    received_at = factory.LazyFunction(timezone.now)
    title = factory.Sequence(lambda n: f"Afgørelse nummer {n}")
    letter_date = dt.date(2021, 4, 1)
    type = DocumentType.OUTGOING_LETTER
    status = "Endeligt"


def document_on(case: Case, *, role: str = DocumentRole.FILED, **kwargs) -> Document:
    document = DocumentFactory(
        source_system=case.source_system, municipality=case.municipality, **kwargs
    )
    CaseDocument.objects.create(case=case, document=document, role=role)
    return document


class GrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grant

    source_system = factory.SubFactory(SourceSystemFactory)
    municipality = factory.LazyAttribute(lambda o: o.source_system.municipality)
    external_id = factory.Sequence(lambda n: f"grant-{n}")
    source_timestamp = factory.LazyFunction(timezone.now)
    received_at = factory.LazyFunction(timezone.now)
    party_cpr = factory.LazyFunction(cpr_number)
    start_on = dt.date(2021, 3, 1)
    status = "Aktiv"


class GrantedBenefitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GrantedBenefit

    grant = factory.SubFactory(GrantFactory)
    external_id = factory.Sequence(lambda n: f"benefit-{n}")
    name = "Kontanthjælp"
    kind = "oekonomisk"
    kle_subject = factory.LazyFunction(lambda: kle_subject("32.24.04", "Hjælp til forsørgelse"))
    start_on = dt.date(2021, 3, 1)
    status = "Aktiv"


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    benefit = factory.SubFactory(GrantedBenefitFactory)
    source_system = factory.LazyAttribute(lambda o: o.benefit.grant.source_system)
    municipality = factory.LazyAttribute(lambda o: o.benefit.grant.municipality)
    external_id = factory.Sequence(lambda n: f"payment-{n}")
    source_timestamp = factory.LazyFunction(timezone.now)
    received_at = factory.LazyFunction(timezone.now)
    party_cpr = factory.LazyAttribute(lambda o: o.benefit.grant.party_cpr)
    disposal_date = dt.date(2021, 4, 1)
    period_start = dt.date(2021, 3, 1)
    period_end = dt.date(2021, 3, 31)
    gross_amount = "12345.50"
    amount_after_tax = "9000.25"


class SheetRowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SheetRow

    municipality = factory.LazyFunction(lambda: municipality("461"))
    kle_subject = factory.LazyFunction(lambda: kle_subject("32.24.04", "Hjælp til forsørgelse"))
    show_from = dt.date(2020, 1, 1)
    contact_department = "Kontaktcenter"
    contact_phone = "66131372"


def sheet(code: str = "461", **switches) -> Sheet:
    sheet_, _ = Sheet.objects.update_or_create(municipality_id=code, defaults=switches)
    return sheet_


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw")
    is_staff = True


def municipal_admin(*codes: str, username: str | None = None):
    """A staff user who is a member of the given municipalities."""
    user = UserFactory(username=username) if username else UserFactory()
    for code in codes:
        Membership.objects.create(user=user, municipality_id=code)
    return user
