"""Test data of the citizen portal: what Kim Borgersen (a demo citizen) has in two municipalities.

Built with borgerblikket's factories; everything a citizen must NOT see is
there too (another citizen's records, a hidden case, an area not on the sheet,
journal notes, internal notes, the caseworker's name, the alternative title).
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from borgerblikket.models import TitleSource
from indexes.models import (
    CaseProgress,
    DataAccess,
    DocumentRole,
    DocumentType,
    Municipality,
    PaymentPlan,
)
from indexes.municipalities import MUNICIPALITIES
from simulators.mitid.citizens import DEMO_CITIZENS
from tests.borgerblikket import factories as f

KIM = next(c for c in DEMO_CITIZENS if c.sub == "demo-kim")
HANS = next(c for c in DEMO_CITIZENS if c.sub == "demo-hans")
SECRET_CASEWORKER = "Sagsbehandler Hemmelig"
SECRET_TITLE = "INTERN: sagsbehandlers egen titel"


@dataclass
class PortalData:
    cases: list = field(default_factory=list)
    awaiting_case: object = None  # open, the municipality waits for Kim ("Afventer dig")
    closed_case: object = None
    hidden_case: object = None
    unlisted_case: object = None
    others_case: object = None
    visible_document: object = None
    journal_note: object = None
    internal_note: object = None
    economic: object = None
    service: object = None
    ended_service: object = None
    others_benefit: object = None
    payments: list = field(default_factory=list)


def _progress(case, steps):
    start = dt.datetime(2024, 1, 10, 9, 0, tzinfo=dt.UTC)
    for index, status in enumerate(steps):
        valid_from = start + dt.timedelta(days=20 * index)
        valid_to = start + dt.timedelta(days=20 * (index + 1)) if index < len(steps) - 1 else None
        CaseProgress.objects.create(
            case=case, status=status, valid_from=valid_from, valid_to=valid_to
        )


def build(*, cpr: str = KIM.cpr, cases: int = 3, payments: int = 3) -> PortalData:
    """Kim's cases, benefits, payments and access log; more of each with bigger numbers."""
    data = PortalData()
    now = timezone.now()
    # A transactional test (the browser tests) may run after a flush emptied the registry.
    Municipality.objects.bulk_create(
        [Municipality(code=code, name=name) for code, name in MUNICIPALITIES],
        ignore_conflicts=True,
    )
    odense_system = f.SourceSystemFactory(name="FASIT", municipality=f.municipality("461"))
    kbh_system = f.SourceSystemFactory(name="KMD Care", municipality=f.municipality("101"))
    f.sheet("461", show_document_titles=True, title_source=TitleSource.CASE)
    f.sheet("101", title_source=TitleSource.CASE)
    kontant = f.kle_subject("32.24.04", "Hjælp til forsørgelse")
    cleaning = f.kle_subject("27.24.06", "Praktisk hjælp")
    f.SheetRowFactory(
        municipality=f.municipality("461"),
        kle_subject=kontant,
        display_name="Kontanthjælp",
        contact_department="Kontaktcenter",
        contact_phone="66131372",
        digital_post_url="https://post.borger.dk/?mailboxid=5185",
        info_url="https://www.odense.dk/borger/job-og-uddannelse/kontanthjaelp",
        self_service_name="Søg om kontanthjælp",
        self_service_url="https://www.borger.dk/kontanthjaelp",
    )
    f.SheetRowFactory(
        municipality=f.municipality("101"),
        kle_subject=cleaning,
        display_name="Rengøring og praktisk hjælp",
        contact_department="Borgerservice",
        contact_phone="33663366",
        digital_post_url="https://post.borger.dk/?mailboxid=1",
    )

    for number in range(cases):
        case = f.CaseFactory(
            source_system=odense_system,
            party_cpr=cpr,
            title=f"Ansøgning om kontanthjælp {number + 1}",
            kle_subject=kontant,
            last_changed_at=now - dt.timedelta(days=number + 1),
        )
        data.cases.append(case)
    _progress(data.cases[0], ["Opstaaet", "Oplyst", "Afgjort"])
    if len(data.cases) > 1:
        data.awaiting_case = data.cases[1]
        data.awaiting_case.awaiting_party_since = dt.datetime(2024, 2, 5, 10, 0, tzinfo=dt.UTC)
        data.awaiting_case.save(update_fields=["awaiting_party_since"])
    data.closed_case = f.CaseFactory(
        source_system=odense_system,
        party_cpr=cpr,
        title="Afslag på enkeltydelse",
        kle_subject=kontant,
        status="Afsluttet",
        last_changed_at=now - dt.timedelta(days=400),
    )
    _progress(data.closed_case, ["Opstaaet", "Afgjort", "Afsluttet"])
    data.hidden_case = f.CaseFactory(
        source_system=odense_system,
        party_cpr=cpr,
        title="Skjult sag om underretning",
        kle_subject=kontant,
        hidden_from_citizen=True,
    )
    data.unlisted_case = f.CaseFactory(
        source_system=odense_system,
        party_cpr=cpr,
        title="Sag i et område kommunen ikke viser",
        kle_subject=f.kle_subject("02.00.10", "Hegnssyn"),
    )
    data.others_case = f.CaseFactory(
        source_system=odense_system,
        party_cpr=HANS.cpr,
        title="Hans' sag om boligstøtte",
        kle_subject=kontant,
    )
    first = data.cases[0]
    data.visible_document = f.document_on(first, title="Afgørelse om kontanthjælp")
    data.journal_note = f.document_on(
        first, title="Journalnotat om telefonsamtale", role=DocumentRole.JOURNAL_NOTE
    )
    data.internal_note = f.document_on(
        first, title="Internt notat om vurdering", type=DocumentType.INTERNAL_NOTE
    )

    grant = f.GrantFactory(
        source_system=odense_system, party_cpr=cpr, related_case=first, start_on=dt.date(2024, 1, 1)
    )
    data.economic = f.GrantedBenefitFactory(
        grant=grant,
        name="Kontanthjælp",
        kind="oekonomisk",
        kle_subject=kontant,
        start_on=dt.date(2024, 1, 1),
        related_case=first,
    )
    PaymentPlan.objects.create(
        benefit=data.economic,
        frequency="Månedlig",
        timing="Bagud",
        payment_day="Sidste bankdag i måneden",
        amount=Decimal("12345.50"),
    )
    for number in range(payments):
        disposal = dt.date(2025, 12, 31) - dt.timedelta(days=30 * number)
        data.payments.append(
            f.PaymentFactory(
                benefit=data.economic,
                disposal_date=disposal,
                period_start=disposal.replace(day=1),
                period_end=disposal,
                gross_amount=Decimal("12345.50"),
                amount_after_tax=Decimal("9000.25"),
                amount_paid=Decimal("9000.25"),
            )
        )

    service_grant = f.GrantFactory(
        source_system=kbh_system, party_cpr=cpr, start_on=dt.date(2020, 3, 21)
    )
    data.service = f.GrantedBenefitFactory(
        grant=service_grant,
        name="Rengøring (FSIII)",
        kind="service",
        kle_subject=cleaning,
        start_on=dt.date(2024, 3, 21),
        description="Dag, 1 gang hver 2. uge, 45 minutter pr. gang",
        delivered_by="Rengøringsenheden",
        granted_by="Københavns Kommune",
    )
    data.ended_service = f.GrantedBenefitFactory(
        grant=service_grant,
        name="Hjælpemiddel - Knallert",
        kind="service",
        kle_subject=cleaning,
        start_on=dt.date(2020, 12, 1),
        end_on=dt.date(2021, 5, 8),
    )
    others_grant = f.GrantFactory(source_system=kbh_system, party_cpr=HANS.cpr)
    data.others_benefit = f.GrantedBenefitFactory(
        grant=others_grant, name="Hans' hjemmehjælp", kind="service", kle_subject=cleaning
    )

    DataAccess.objects.create(
        citizen_cpr=cpr,
        actor_type=DataAccess.Actor.MUNICIPAL_ADMIN,
        municipality=f.municipality("461"),
        channel=DataAccess.Channel.PREVIEW,
        record_kind=DataAccess.RecordKind.ALL,
        detail="odense-admin",
    )
    DataAccess.objects.create(
        citizen_cpr=HANS.cpr,
        actor_type=DataAccess.Actor.SUPPORT,
        channel=DataAccess.Channel.ADMIN_RECORD,
        record_kind=DataAccess.RecordKind.CASE,
        subject="Hans' henvendelse",
    )
    return data
