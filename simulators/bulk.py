"""A realistic population, written fast with PostgreSQL COPY (``manage.py simulate``).

For benchmarks: cases with their progress, documents and links, grants with
benefits, payment plans and monthly payments, for N citizens in M
municipalities — rows streamed with psycopg 3's ``cursor.copy`` in chunks of
citizens, one transaction per chunk, instead of one request per record.

This bypasses the ingestion services on purpose (it is a load generator, not a
source system): records are written at version 1 without ``Change`` rows. It
keeps every constraint: case numbers unique per municipality, external ids
unique per source system (every run has its own id prefix), periods forward,
amounts not negative, CPR numbers of 10 digits (synthetic, see
``simulators.cpr``). Columns it does not fill get their model default, so
it keeps working when the models grow.
"""

import calendar
import contextlib
import dataclasses
import datetime
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from indexes.models import (
    Case,
    CaseDocument,
    CaseProgress,
    Document,
    Grant,
    GrantedBenefit,
    Municipality,
    Payment,
    PaymentPlan,
    SourceSystem,
)
from kle.models import Facet, Subject
from simulators import danish
from simulators.catalogue import (
    FASIT,
    KINDS,
    KMD_YDELSE,
    NEXUS,
    SBSYS,
    SERVICES,
    kle_overrides_for,
)
from simulators.cpr import CAPACITY_PER_SEX, cpr_for_index
from simulators.world import TZ

# Bulk citizens use their own slice of the synthetic CPR numbering (see world.py).
BULK_CPR_BASE = 10_000_000  # above the 98 x 100,000 of world.py
FIRST_MUNICIPALITIES = ("461", "706", "210")
CHUNK_CITIZENS = 20_000
CASES_PER_CITIZEN = (0, 1, 1, 2, 2, 2, 3, 3, 4, 4)  # mean 2.2
# Share of open cases that wait for the citizen ("Afventer dig"), as in the simulators.
BULK_WAIT_SHARE = 0.06
KIND_WEIGHTS = {
    "sygedagpenge": 20, "kontanthjaelp": 12, "uddannelseshjaelp": 5, "ressourceforloeb": 5,
    "fleksjob": 6, "revalidering": 3, "byggetilladelse": 8, "hegnssyn": 2,
    "parkeringsdispensation": 5, "aeldrebolig": 4, "helbredstillaeg": 5, "enkeltudgifter": 8,
    "aktindsigt": 4, "handleplan": 3, "boerneundersoegelse": 3, "visitation": 7,
}  # fmt: skip
PAYMENT_MONTHS_MAX = 12  # the most recent months of each economic benefit
START = datetime.date(2019, 1, 1)


class PopulationError(Exception):
    """The population cannot be written (wrong database, KLE missing, …)."""


@dataclass
class LoadReport:
    citizens: int = 0
    municipalities: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    skipped_kinds: list[str] = field(default_factory=list)

    @property
    def cases(self) -> int:
        return self.rows.get("case", 0)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def summary(self) -> str:
        rate = self.cases / self.seconds if self.seconds else 0.0
        row_rate = self.total_rows / self.seconds if self.seconds else 0.0
        counts = ", ".join(f"{count:,} {name}" for name, count in self.rows.items())
        return (
            f"{self.citizens:,} citizens in {self.municipalities} municipalities: {counts} "
            f"in {self.seconds:.1f} s — {rate:,.0f} cases/s, {row_rate:,.0f} rows/s"
        )


# --- COPY text format --------------------------------------------------------------------


def _text(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return (
                value.replace("\\", "\\\\")
                .replace("\t", "\\t")
                .replace("\n", "\\n")
                .replace("\r", "\\r")
            )
        return value
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value)


class Table:
    """Rows of one model in COPY text format; unfilled columns get their model default."""

    def __init__(self, model: type[Model], filled: tuple[str, ...]):
        self.model = model
        self.filled = filled
        fields = {f.name: f for f in model._meta.concrete_fields}
        unknown = [name for name in filled if name not in fields]
        if unknown:
            raise PopulationError(f"{model.__name__} has no field(s) {', '.join(unknown)}")
        rest = []
        for name, model_field in fields.items():
            if name in filled:
                continue
            default = model_field.get_default()
            if default is None and not model_field.null:
                raise PopulationError(
                    f"{model.__name__}.{name} is required and has no default; "
                    "teach simulators/bulk.py to fill it"
                )
            rest.append((model_field.column, _text(default)))
        self.columns = [fields[name].column for name in filled] + [column for column, _ in rest]
        self.suffix = "".join("\t" + value for _, value in rest) + "\n"
        self.lines: list[str] = []
        self.count = 0

    def add(self, *values) -> None:
        self.lines.append("\t".join([_text(v) for v in values]) + self.suffix)

    def copy(self, cursor) -> int:
        if not self.lines:
            return 0
        table = self.model._meta.db_table
        columns = ", ".join(f'"{column}"' for column in self.columns)
        with cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
            block: list[str] = []
            size = 0
            for line in self.lines:
                block.append(line)
                size += len(line)
                if size > 1 << 20:
                    copy.write("".join(block))
                    block, size = [], 0
            if block:
                copy.write("".join(block))
        written = len(self.lines)
        self.count += written
        self.lines = []
        return written


class IdBlock:
    """Primary keys reserved from the table's sequence in blocks (sequences are not transactional)."""

    def __init__(self, model: type[Model], size: int = 200_000):
        self.model = model
        self.size = size
        self.next = 0
        self.last = -1

    def __call__(self) -> int:
        if self.next > self.last:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                    "nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
                    [self.model._meta.db_table, self.model._meta.db_table, self.size],
                )
                self.last = cursor.fetchone()[0]
            self.next = self.last - self.size + 1
        value = self.next
        self.next += 1
        return value


@contextlib.contextmanager
def _constraints_deferred_to_end(models: list[type[Model]], progress):
    """Drop the tables' secondary indexes, unique constraints and foreign keys; restore them.

    Must run inside a transaction: the restore re-validates every row, and a
    failure rolls the whole load (and the drops) back.
    """
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype
            FROM pg_constraint c
            WHERE c.conrelid = ANY(%s::regclass[]) AND c.contype IN ('f', 'u')
            ORDER BY c.contype DESC, c.conname
            """,
            [tables],
        )
        constraints = cursor.fetchall()  # unique constraints first, then foreign keys
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            """,
            [tables],
        )
        indexes = cursor.fetchall()
        # Check now what this transaction deferred (e.g. new source systems): ALTER TABLE
        # refuses tables with pending trigger events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for table, name, _definition, _type in reversed(constraints):
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    progress(f"rebuilding {len(indexes)} indexes and {len(constraints)} constraints")
    with connection.cursor() as cursor:
        # Sorting an index build in memory instead of on disk (this transaction only).
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        progress("indexes rebuilt")
        for table, name, definition, _type in constraints:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


# --- the population ------------------------------------------------------------------------


def municipalities_pick(count: int) -> list[Municipality]:
    """Odense, Syddjurs and Fredensborg first, then the others by code."""
    if not 1 <= count <= 98:
        raise PopulationError("municipalities must be between 1 and 98")
    codes = list(FIRST_MUNICIPALITIES) + [
        code
        for code in Municipality.objects.order_by("code").values_list("code", flat=True)
        if code not in FIRST_MUNICIPALITIES
    ]
    chosen = {m.code: m for m in Municipality.objects.filter(code__in=codes[:count])}
    return [chosen[code] for code in codes[:count]]


def population_load(
    *,
    citizens: int,
    municipalities: int,
    seed: int = 1,
    progress: Callable[[str], None] | None = None,
) -> LoadReport:
    """Write ``citizens`` citizens spread over ``municipalities`` municipalities."""
    if connection.vendor != "postgresql":
        raise PopulationError(
            "simulate writes with PostgreSQL COPY; DATABASE_URL must be PostgreSQL"
        )
    if citizens < 1:
        raise PopulationError("citizens must be at least 1")
    if citizens > CAPACITY_PER_SEX - BULK_CPR_BASE:
        raise PopulationError("too many citizens for the synthetic CPR numbering")
    started = time.perf_counter()
    places = municipalities_pick(municipalities)
    loader = _Loader(seed=seed, places=places, progress=progress or (lambda _m: None))
    report = loader.run(citizens)
    report.seconds = time.perf_counter() - started
    return report


class _Calendar:
    """Pre-formatted dates and times: formatting is the hot path of the generator."""

    def __init__(self, today: datetime.date):
        self.days = (today - START).days  # day indexes 0 .. days-1 lie in the past
        self.date: list[str] = []
        self.offset: list[str] = []
        self.month: list[int] = []  # month number since START per day
        self.months: list[tuple[int, int, int, int, int]] = []  # year, month, first, last, weekday
        day = START
        for index in range(self.days + 62):
            self.date.append(day.isoformat())
            noon = datetime.datetime(day.year, day.month, day.day, 12, tzinfo=TZ)
            self.offset.append(noon.isoformat()[-6:])
            if day.day == 1 or index == 0:
                self.months.append((day.year, day.month, index, 0, 0))
            self.month.append(len(self.months) - 1)
            day += datetime.timedelta(days=1)
        for n, (year, month, first, _last, _weekday) in enumerate(self.months):
            length = calendar.monthrange(year, month)[1]
            last = first + length - 1
            weekday = last
            while (START + datetime.timedelta(days=weekday)).weekday() >= 5:
                weekday -= 1
            self.months[n] = (year, month, first, last, weekday)
        self.clock = [f"{minute // 60:02d}:{minute % 60:02d}:00" for minute in range(24 * 60)]

    def moment(self, day: int, minute: int) -> str:
        return f"{self.date[day]} {self.clock[minute]}{self.offset[day]}"


def _clean(text: str) -> str:
    if any(c in text for c in "\t\n\r\\"):
        raise PopulationError(f"text with a tab, newline or backslash: {text!r}")
    return text


@dataclass
class _KindPlan:
    """Everything about a kind that does not change per case, pre-formatted."""

    kind: object
    weight: int
    system_product: str
    kle_id: int
    title: str
    application: str
    summons: str
    granted_title: str
    refused_title: str
    note: str
    sensitivity: str
    benefit: object = None
    benefit_kle_id: int = 0


class _Loader:
    def __init__(self, *, seed: int, places: list[Municipality], progress):
        self.seed = seed
        self.places = places
        self.progress = progress
        self.now = timezone.now()
        self.now_text = self.now.isoformat()
        self.calendar = _Calendar(self.now.astimezone(TZ).date())
        self.report = LoadReport(municipalities=len(places))
        subjects = dict(Subject.objects.values_list("number", "id"))
        overrides = kle_overrides_for(present=set(subjects))
        self.plans: list[_KindPlan] = []
        for key, weight in KIND_WEIGHTS.items():
            kind = KINDS[key]
            if key in overrides:
                kind = dataclasses.replace(kind, kle=overrides[key])
            needed = [kind.kle] + ([kind.benefit.kle] if kind.benefit else [])
            if kind.key == "visitation":
                needed += [service.kle for service in SERVICES.values()]
            if not all(number in subjects for number in needed):
                self.report.skipped_kinds.append(key)
                continue
            subject = kind.subject
            self.plans.append(
                _KindPlan(
                    kind=kind,
                    weight=weight,
                    system_product=kind.system,
                    kle_id=subjects[kind.kle],
                    title=_clean(kind.title),
                    application=_clean(f"Ansøgning om {subject}"),
                    summons=_clean(f"Indkaldelse til samtale om {subject}"),
                    granted_title=_clean(f"Bevilling af {subject}"),
                    refused_title=_clean(f"Afslag på ansøgning om {subject}"),
                    note=_clean(f"Referat af samtale om {subject}"),
                    sensitivity=str(kind.sensitivity),
                    benefit=kind.benefit,
                    benefit_kle_id=subjects[kind.benefit.kle] if kind.benefit else 0,
                )
            )
        if not self.plans:
            raise PopulationError("no KLE numbers of the simulated kinds exist; run kle_ensure")
        self.services = [
            (service, subjects[service.kle], _clean(service.name), _clean(service.description))
            for service in SERVICES.values()
            if service.kle in subjects
        ]
        facet = Facet.objects.filter(code="G01").first() or Facet.objects.order_by("code").first()
        if facet is None:
            raise PopulationError("no handlingsfacetter exist; run kle_ensure")
        self.facet_id = facet.id
        self.systems = {
            place.code: {
                product: SourceSystem.objects.get_or_create(
                    municipality=place, name=product, defaults={"product": product}
                )[0].id
                for product in (FASIT, SBSYS, NEXUS, KMD_YDELSE)
            }
            for place in places
        }
        # Every run gets its own id prefix so runs never collide (constraints hold).
        self.prefix = f"bulk{self.now:%y%m%d%H%M%S}{secrets.token_hex(2)}"
        self.ids = {model: IdBlock(model) for model in (Case, CaseProgress, Document,
                    CaseDocument, Grant, GrantedBenefit, PaymentPlan, Payment)}  # fmt: skip
        self.tables = {
            "case": Table(Case, ("id", "source_system", "municipality", "external_id",
                "source_timestamp", "received_at", "case_number", "title", "source_status_text",
                "sensitivity", "hidden_from_citizen", "kle_subject", "facet", "responsible_unit",
                "primary_caseworker", "party_cpr", "party_cvr", "decision_class", "created_on",
                "status", "last_changed_at", "awaiting_party_since")),
            "progress": Table(CaseProgress, ("id", "case", "status", "valid_from", "valid_to")),
            "document": Table(Document, ("id", "source_system", "municipality", "external_id",
                "source_timestamp", "received_at", "title", "letter_date", "type", "status",
                "sensitivity", "kle_subject", "sender_cpr", "sender_cvr", "sender_name",
                "recipient_cpr", "recipient_cvr", "recipient_name")),
            "link": Table(CaseDocument, ("id", "case", "document", "role")),
            "grant": Table(Grant, ("id", "source_system", "municipality", "external_id",
                "source_timestamp", "received_at", "case_number", "party_cpr", "start_on",
                "end_on", "reason", "sensitivity", "status", "related_case")),
            "benefit": Table(GrantedBenefit, ("id", "grant", "external_id", "name", "kind",
                "kle_subject", "start_on", "end_on", "status", "description", "delivered_by",
                "granted_by", "related_case")),
            "plan": Table(PaymentPlan, ("id", "benefit", "frequency", "timing", "payment_day",
                "amount", "start_on", "end_on")),
            "payment": Table(Payment, ("id", "source_system", "municipality", "external_id",
                "source_timestamp", "received_at", "benefit", "party_cpr", "disposal_date",
                "period_start", "period_end", "gross_amount", "amount_after_tax", "amount_sent",
                "amount_paid", "paying_office")),
        }  # fmt: skip
        self.serial = 0

    def run(self, citizens: int) -> LoadReport:
        per_place = [citizens // len(self.places)] * len(self.places)
        for n in range(citizens % len(self.places)):
            per_place[n] += 1
        person = 0
        # One transaction: all of the population or none of it. Secondary indexes
        # and foreign keys are dropped for the load and rebuilt after it (sorted
        # index builds and one set-based check per foreign key instead of one
        # lookup per row), as pg_restore does; rebuilding them re-checks every row.
        with transaction.atomic():
            models = [table.model for table in self.tables.values()]
            with _constraints_deferred_to_end(models, self.progress):
                for place, count in zip(self.places, per_place, strict=True):
                    rng = random.Random(f"{self.seed}:bulk:{place.code}")  # noqa: S311 - a seeded simulation, not a secret
                    # Waits for the citizen from a stream of their own: the rest is as before.
                    self.waits_rng = random.Random(f"{self.seed}:bulk:{place.code}:waits")  # noqa: S311 - a seeded simulation, not a secret
                    done = 0
                    while done < count:
                        chunk = min(CHUNK_CITIZENS, count - done)
                        for _ in range(chunk):
                            self._citizen(place, person, rng)
                            person += 1
                        self._flush()
                        done += chunk
                        self.report.citizens += chunk
                        self.progress(
                            f"{place.code} {place.name}: {done:,}/{count:,} citizens, "
                            f"{self.tables['case'].count:,} cases so far"
                        )
        self.report.rows = {name: table.count for name, table in self.tables.items()}
        with connection.cursor() as cursor:
            for table in self.tables.values():
                cursor.execute(f'ANALYZE "{table.model._meta.db_table}"')
        return self.report

    def _flush(self) -> None:
        with connection.cursor() as cursor:
            raw = cursor.cursor if hasattr(cursor, "cursor") else cursor
            for name in ("case", "progress", "document", "link", "grant", "benefit", "plan",
                         "payment"):  # fmt: skip
                self.tables[name].copy(raw)

    def _citizen(self, place: Municipality, person: int, rng: random.Random) -> None:
        cpr = cpr_for_index(BULK_CPR_BASE + person, male=rng.random() < 0.5)
        plans = rng.choices(
            self.plans,
            weights=[plan.weight for plan in self.plans],
            k=rng.choice(CASES_PER_CITIZEN),
        )
        previous_case = 0
        for plan in plans:
            previous_case = self._case(place, plan, cpr, rng, previous_case)

    def _case(
        self, place, plan: _KindPlan, cpr: str, rng: random.Random, previous_case: int
    ) -> int:
        r = rng.random
        cal = self.calendar
        now = self.now_text
        self.serial += 1
        serial = self.serial
        code = place.code
        systems = self.systems[code]
        system = systems[plan.system_product]
        kind = plan.kind
        # The timeline: day indexes and minutes of the day, never in the future.
        day = int(r() * max(1, cal.days - 30))
        minute = 480 + int(r() * 480)
        steps = [(day, minute, "Opstaaet")]
        for status, low, high in (("Oplyst", 5, 30), ("Afgjort", 7, 45), ("Afsluttet", 30, 500)):
            if r() >= 0.75:
                break
            day += low + int(r() * (high - low + 1))
            minute += 60
            if day >= cal.days:
                break
            steps.append((day, minute, status))
        last_day, last_minute, status = steps[-1]
        last_moment = cal.moment(last_day, last_minute)
        granted = r() >= kind.refusal_rate
        case_id = self.ids[Case]()
        party_cpr, party_cvr = cpr, r"\N"
        if kind.party == "cvr_or_cpr" and r() < 0.3:
            party_cpr, party_cvr = r"\N", f"{10_000_000 + serial % 89_999_999:08d}"
        decided = status in ("Afgjort", "Afsluttet")
        decision = ("Bevilling" if granted else "Afslag") if decided else ""
        hidden = "t" if kind.hidden_rate and r() < kind.hidden_rate else "f"
        # "Afventer dig": a share of the open cases wait for the citizen since a day after
        # their last status change (never in the future, never on a closed case).
        awaiting = r"\N"
        if status != "Afsluttet" and self.waits_rng.random() < BULK_WAIT_SHARE:
            wait_day = min(cal.days - 1, last_day + 1 + int(self.waits_rng.random() * 30))
            if wait_day > last_day:
                awaiting = cal.moment(wait_day, 600)
        # The wait, when later, is the case's last change (case_status_derive, issue 11.10).
        last_changed = last_moment if awaiting == r"\N" else awaiting
        tables = self.tables
        tables["case"].lines.append(
            f"{case_id}\t{system}\t{code}\t{self.prefix}-S{serial}\t{last_moment}\t{now}\t"
            f"{self.prefix}-{serial}\t{plan.title}\t"
            f"{'Afsluttet' if status == 'Afsluttet' else 'Under behandling'}\t{plan.sensitivity}\t"
            f"{hidden}\t{plan.kle_id}\t{self.facet_id}\t{place.name} Kommune, {kind.unit}\t"
            f"{danish.CASEWORKERS[serial % 12]}\t{party_cpr}\t{party_cvr}\t{decision}\t"
            f"{cal.date[steps[0][0]]}\t{status}\t{last_changed}\t{awaiting}{tables['case'].suffix}"
        )
        progress_ids = self.ids[CaseProgress]
        lines = tables["progress"].lines
        suffix = tables["progress"].suffix
        for n, (step_day, step_minute, name) in enumerate(steps):
            end = cal.moment(steps[n + 1][0], steps[n + 1][1]) if n + 1 < len(steps) else r"\N"
            lines.append(
                f"{progress_ids()}\t{case_id}\t{name}\t{cal.moment(step_day, step_minute)}\t"
                f"{end}{suffix}"
            )
        # Documents: an incoming application, letters out, a journal note now and then.
        letters = [("Brev, indgaaende", "Modtaget", "Tilakteret", plan.application)]
        if len(steps) > 1:
            letters.append(("Brev, udgaaende", "Endeligt", "Tilakteret", plan.summons))
        if len(steps) > 2:
            letters.append(("Brev, udgaaende", "Endeligt", "Tilakteret",
                            plan.granted_title if granted else plan.refused_title))  # fmt: skip
        if r() < 0.3:
            letters.append(("Internt Notat", "Endeligt", "Journalnotat", plan.note))
        document_ids, link_ids = self.ids[Document], self.ids[CaseDocument]
        documents, links = tables["document"], tables["link"]
        # The citizen (or company) sent the application and receives the letters out; the
        # name is not known here (the simulators' feeds carry it). Internal notes have none.
        correspondent = f"{party_cpr}\t{party_cvr}\t"
        nobody = "\\N\t\\N\t"
        for n, (doc_type, doc_status, role, title) in enumerate(letters):
            step_day, step_minute, _name = steps[min(n, len(steps) - 1)]
            document_id = document_ids()
            sender = correspondent if doc_type == "Brev, indgaaende" else nobody
            recipient = correspondent if doc_type == "Brev, udgaaende" else nobody
            documents.lines.append(
                f"{document_id}\t{system}\t{code}\t{self.prefix}-D{serial}-{n}\t"
                f"{cal.moment(step_day, step_minute + 5)}\t{now}\t{title}\t{cal.date[step_day]}\t"
                f"{doc_type}\t{doc_status}\t{plan.sensitivity}\t{plan.kle_id}\t"
                f"{sender}\t{recipient}{documents.suffix}"
            )
            links.lines.append(f"{link_ids()}\t{case_id}\t{document_id}\t{role}{links.suffix}")
            if n == 0 and previous_case and r() < 0.05:
                links.lines.append(
                    f"{link_ids()}\t{previous_case}\t{document_id}\tVedlagt{links.suffix}"
                )
        if decided and granted:
            decided_step = next(step for step in steps if step[2] == "Afgjort")
            closed_day = steps[-1][0] if status == "Afsluttet" else None
            party = party_cpr
            if plan.benefit is not None:
                self._economic(place, plan, party, serial, decided_step, closed_day, r)
            elif kind.key == "visitation":
                self._services(place, party, serial, case_id, decided_step, closed_day, rng)
        return case_id

    def _economic(self, place, plan, cpr, serial, decided, closed_day, r) -> None:
        cal = self.calendar
        now = self.now_text
        spec = plan.benefit
        systems = self.systems[place.code]
        tables = self.tables
        start_day = decided[0]
        start = cal.date[start_day]
        end = cal.date[closed_day] if closed_day is not None else r"\N"
        status = "Inaktiv" if closed_day is not None else "Aktiv"
        low, high = spec.monthly
        amount = low + int(r() * (high - low + 1))  # whole kroner per month
        grant_id, benefit_id = self.ids[Grant](), self.ids[GrantedBenefit]()
        office = f"Ydelseskontoret, {place.name} Kommune"
        tables["grant"].lines.append(
            f"{grant_id}\t{systems[KMD_YDELSE]}\t{place.code}\t{self.prefix}-B{serial}\t"
            f"{cal.moment(start_day, min(decided[1] + 60, 1439))}\t{now}\t{self.prefix}-{serial}\t"
            f"{cpr}\t{start}\t{end}\t{spec.reason}\tFORTROLIGE_PERSONOPLYSNINGER\t{status}\t"
            f"\\N{tables['grant'].suffix}"
        )
        tables["benefit"].lines.append(
            f"{benefit_id}\t{grant_id}\t{self.prefix}-B{serial}-1\t{spec.name}\toekonomisk\t"
            f"{plan.benefit_kle_id}\t{start}\t{end}\t{status}\t\t{office}\t"
            f"{place.name} Kommune\t\\N{tables['benefit'].suffix}"
        )
        tables["plan"].lines.append(
            f"{self.ids[PaymentPlan]()}\t{benefit_id}\tMånedlig\t{spec.timing}\t"
            f"Sidste bankdag i måneden\t{amount}.00\t{start}\t{end}{tables['plan'].suffix}"
        )
        # The most recent months, paid on the last weekday, never in the future.
        last_day = min(closed_day if closed_day is not None else cal.days - 1, cal.days - 1)
        first_month = cal.month[start_day]
        last_month = cal.month[last_day]
        rate = 36 + int(r() * 6)  # withholding rate, per cent
        allowance = (3900 + int(r() * 701)) * 100  # monthly allowance, øre
        payment_ids = self.ids[Payment]
        payments = tables["payment"]
        source = systems[KMD_YDELSE]
        for month in range(max(first_month, last_month - PAYMENT_MONTHS_MAX + 1), last_month + 1):
            year, number, first, last, weekday = cal.months[month]
            if weekday >= cal.days:
                continue  # not paid yet
            period_start, period_end = max(first, start_day), min(last, last_day)
            days = period_end - period_start + 1
            length = last - first + 1
            gross = (amount * 100 * days * 2 + length) // (2 * length)  # øre, rounded half up
            tax = max(0, ((gross - allowance) * rate + 5000) // 10000) * 100  # whole kroner
            net = gross - tax
            gross_text = f"{gross // 100}.{gross % 100:02d}"
            net_text = f"{net // 100}.{net % 100:02d}"
            payments.lines.append(
                f"{payment_ids()}\t{source}\t{place.code}\t{self.prefix}-U{serial}-{year}{number:02d}\t"
                f"{cal.moment(max(weekday - 2, start_day), 300)}\t{now}\t{benefit_id}\t{cpr}\t"
                f"{cal.date[weekday]}\t{cal.date[period_start]}\t{cal.date[period_end]}\t"
                f"{gross_text}\t{net_text}\t{net_text}\t{net_text}\t{office}{payments.suffix}"
            )

    def _services(self, place, cpr, serial, case_id, decided, closed_day, rng) -> None:
        cal = self.calendar
        now = self.now_text
        systems = self.systems[place.code]
        tables = self.tables
        start = cal.date[decided[0]]
        end = cal.date[closed_day] if closed_day is not None else r"\N"
        status = "Inaktiv" if closed_day is not None else "Aktiv"
        grant_id = self.ids[Grant]()
        tables["grant"].lines.append(
            f"{grant_id}\t{systems[NEXUS]}\t{place.code}\t{self.prefix}-N{serial}\t"
            f"{cal.moment(decided[0], min(decided[1] + 60, 1439))}\t{now}\t{self.prefix}-{serial}\t"
            f"{cpr}\t{start}\t{end}\tServiceloven § 83 og § 112\tFOELSOMME_PERSONOPLYSNINGER\t"
            f"{status}\t{case_id}{tables['grant'].suffix}"
        )
        for service, kle_id, name, description in rng.sample(self.services, rng.randint(1, 3)):
            tables["benefit"].lines.append(
                f"{self.ids[GrantedBenefit]()}\t{grant_id}\t{self.prefix}-N{serial}-{service.key}\t"
                f"{name}\tservice\t{kle_id}\t{start}\t{end}\t{status}\t{description}\t"
                f"{service.delivered_by}\t{place.name} Kommune, Visitationen\t{case_id}"
                f"{tables['benefit'].suffix}"
            )
