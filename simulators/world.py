"""A municipality's simulated population and the matters its source systems handle.

Everything follows from ``(seed, municipality, citizens, start, horizon)``: the
same arguments give the same people, dates and amounts on every machine
(``random.Random`` seeded with a string is stable across runs and versions).
Each simulator renders its own part of the same world, so a citizen's
kontanthjælp case in FASIT and its payments in KMD Ydelse belong together.
"""

import datetime
import functools
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils.timezone import make_aware

from indexes.municipalities import MUNICIPALITIES
from simulators import danish
from simulators.catalogue import (
    ESDH_KINDS,
    FASIT,
    JOBCENTRE_KINDS,
    KINDS,
    NEXUS,
    SBSYS,
    SERVICES,
    Kind,
)
from simulators.cpr import birth_date_of, cpr_for_index
from simulators.demo_citizens import DEMO_PEOPLE, DemoCitizen, DemoMatter

TZ = ZoneInfo("Europe/Copenhagen")
# Each municipality draws its citizens from its own slice of the CPR numbering,
# so two municipalities never invent the same person by accident.
CITIZENS_PER_MUNICIPALITY_MAX = 100_000
MUNICIPALITY_ORDINAL = {code: n for n, (code, _name) in enumerate(MUNICIPALITIES)}
DEMO_NUMBER_BASE = 9_000_000
# The systems whose cases may wait for the citizen (the payment system has no cases).
WAITING_SYSTEMS = frozenset({FASIT, SBSYS, NEXUS})

JOBCENTRE_WEIGHTS = {
    "sygedagpenge": 35,
    "kontanthjaelp": 20,
    "uddannelseshjaelp": 10,
    "ressourceforloeb": 10,
    "fleksjob": 10,
    "revalidering": 5,
}
ESDH_WEIGHTS = {
    "byggetilladelse": 15,
    "hegnssyn": 5,
    "parkeringsdispensation": 10,
    "aeldrebolig": 8,
    "helbredstillaeg": 8,
    "enkeltudgifter": 15,
    "aktindsigt": 8,
    "handleplan": 5,
    "boerneundersoegelse": 5,
}


@dataclass(frozen=True)
class Citizen:
    index: int
    cpr: str
    first_name: str
    last_name: str
    male: bool
    birth_date: datetime.date
    street: str
    postcode: str
    town: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age_on(self, day: datetime.date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


@dataclass(frozen=True)
class ServicePeriod:
    """One elder-care service or aid within a visitation's grant."""

    key: str
    start: datetime.date
    end: datetime.date | None
    granted_at: datetime.datetime  # when the grant gained this service


@dataclass(frozen=True)
class Engagement:
    """One matter of one citizen in one source system, with its whole timeline."""

    key: str
    number: int  # unique within the municipality: ids and case numbers derive from it
    kind: Kind
    citizen: Citizen
    opened: datetime.datetime
    informed: datetime.datetime | None
    decided: datetime.datetime | None
    closed: datetime.datetime | None
    granted: bool
    hidden: bool = False
    cvr: str | None = None
    services: tuple[ServicePeriod, ...] = ()
    paid_from: datetime.date | None = None  # pensions: the first of the month after turning 67
    # When the municipality waits for the citizen to act ("Afventer dig"): periods
    # [start, end), end None = still waiting. Open periods only: each ends before closed.
    waits: tuple[tuple[datetime.datetime, datetime.datetime | None], ...] = ()

    def awaiting_at(self, moment: datetime.datetime) -> datetime.datetime | None:
        """Since when the municipality waits for the citizen at ``moment``, or None."""
        for start, end in self.waits:
            if start <= moment and (end is None or moment < end):
                return start
        return None

    @property
    def is_demo(self) -> bool:
        return self.number >= DEMO_NUMBER_BASE

    @property
    def benefit_start(self) -> datetime.date:
        """First day paid: sygedagpenge from the first sick day, others from the decision."""
        if self.paid_from is not None:
            return self.paid_from
        if self.kind.key == "sygedagpenge" or self.decided is None:
            return self.opened.date()
        return self.decided.date()

    @property
    def benefit_end(self) -> datetime.date | None:
        return self.closed.date() if self.closed else None


@dataclass(frozen=True)
class World:
    seed: int
    municipality: str
    start: datetime.date
    horizon: datetime.date
    citizens: tuple[Citizen, ...]
    engagements: tuple[Engagement, ...]

    def engagements_of(self, *systems: str) -> list[Engagement]:
        return [e for e in self.engagements if e.kind.system in systems]

    @property
    def municipality_name(self) -> str:
        return dict(MUNICIPALITIES)[self.municipality]


def office_hours(day: datetime.date, rng: random.Random) -> datetime.datetime:
    """An aware time on ``day`` between 08:00 and 15:59, Copenhagen time."""
    naive = datetime.datetime.combine(
        day, datetime.time(rng.randint(8, 15), rng.randint(0, 59), rng.randint(0, 59))
    )
    return make_aware(naive, TZ)


def _fixed(day: datetime.date, hour: int) -> datetime.datetime:
    return make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)), TZ)


def _days(rng: random.Random, low: int, high: int) -> datetime.timedelta:
    return datetime.timedelta(days=rng.randint(low, high))


def _pick(rng: random.Random, weights: dict[str, int], allowed: list[Kind]) -> Kind | None:
    keys = [kind.key for kind in allowed if kind.key in weights]
    if not keys:
        return None
    return KINDS[rng.choices(keys, weights=[weights[key] for key in keys])[0]]


def cvr_for(number: int) -> str:
    """A CVR number with a valid modulus-11 check digit (stdnum.dk.cvr), from a serial."""
    base = f"{(number * 7919) % 9_000_000 + 1_000_000:07d}"
    weights = (2, 7, 6, 5, 4, 3, 2)
    remainder = sum(w * int(d) for w, d in zip(weights, base, strict=True)) % 11
    check = (11 - remainder) % 11
    if check == 10:  # no valid check digit for this base: try the next serial
        return cvr_for(number + 1)
    return base + str(check)


def citizen_make(*, municipality: str, index: int, rng: random.Random) -> Citizen:
    male = rng.random() < 0.5
    slot = MUNICIPALITY_ORDINAL[municipality] * CITIZENS_PER_MUNICIPALITY_MAX + index
    cpr = cpr_for_index(slot, male=male)
    towns = danish.POST_TOWNS.get(municipality) or (("", dict(MUNICIPALITIES)[municipality]),)
    postcode, town = rng.choice(towns)
    return Citizen(
        index=index,
        cpr=cpr,
        first_name=rng.choice(danish.FIRST_NAMES_MALE if male else danish.FIRST_NAMES_FEMALE),
        last_name=rng.choice(danish.LAST_NAMES),
        male=male,
        birth_date=birth_date_of(cpr),
        street=f"{rng.choice(danish.STREETS)} {rng.randint(1, 120)}",
        postcode=postcode,
        town=town,
    )


class _Counter:
    def __init__(self, start: int = 1):
        self.value = start - 1

    def __call__(self) -> int:
        self.value += 1
        return self.value


def _timeline(
    kind: Kind, opened: datetime.datetime, rng: random.Random
) -> tuple[datetime.datetime, datetime.datetime, datetime.datetime | None, bool]:
    """informed, decided, closed, granted for a case opened at ``opened``."""
    informed = opened + _days(rng, 5, 30)
    decided = informed + _days(rng, 7, 45)
    granted = rng.random() >= kind.refusal_rate
    if not granted:
        closed = decided + _days(rng, 28, 60)  # after the 4-week complaint period
    elif kind.duration:
        closed = decided + _days(rng, *kind.duration)
    else:
        closed = decided + _days(rng, 365, 1500) if rng.random() < 0.3 else None
    return informed, decided, closed, granted


# Waits for the citizen: while a case is being informed (papers, a medical
# certificate) and, for long-running jobcentre and elder-care cases, now and then
# during follow-up (a questionnaire, a meeting to book). Measured for seeds 1 and 2
# (3,000 citizens of Odense, 22 Nov 2026): 10 % of the open jobcentre and elder-care
# cases wait, 5 % of all open cases (ESDH cases mostly lie decided). The waits are
# drawn from a stream of numbers of their own, so the rest of the world is unchanged.
INFORMING_WAIT_SHARE = 0.4
FOLLOW_UP_WAIT_SHARE = 0.5
FOLLOW_UP_GAP_DAYS = (45, 180)
FOLLOW_UP_WAIT_DAYS = (14, 45)


def _waits(
    kind: Kind,
    *,
    opened: datetime.datetime,
    informed: datetime.datetime | None,
    decided: datetime.datetime | None,
    closed: datetime.datetime | None,
    horizon: datetime.date,
    rng: random.Random,
) -> tuple[tuple[datetime.datetime, datetime.datetime | None], ...]:
    waits: list[tuple[datetime.datetime, datetime.datetime | None]] = []
    if informed is not None and rng.random() < INFORMING_WAIT_SHARE:
        begins = opened + datetime.timedelta(days=rng.randint(1, 3), hours=1)
        if begins < informed:
            waits.append((begins, informed))
    # ESDH cases untouched for six months turn passive (seed 002): no follow-up there.
    if decided is None or kind.system == SBSYS:
        return tuple(waits)
    end = closed or make_aware(datetime.datetime.combine(horizon, datetime.time(16)), TZ)
    moment = decided + _days(rng, *FOLLOW_UP_GAP_DAYS)
    while moment < end:
        length = _days(rng, *FOLLOW_UP_WAIT_DAYS)
        waited = rng.random() < FOLLOW_UP_WAIT_SHARE
        if waited and moment + length < end:
            waits.append((moment, moment + length))
        elif waited and closed is None:
            waits.append((moment, None))  # still waiting when the world ends
            break
        moment += length + _days(rng, *FOLLOW_UP_GAP_DAYS)
    return tuple(waits)


def _random_engagements(
    citizen: Citizen,
    rng: random.Random,
    start: datetime.date,
    horizon: datetime.date,
    next_number,
    waits_seed: str | None = None,
) -> list[Engagement]:
    span = (horizon - start).days - 30
    middle = start + datetime.timedelta(days=span // 2)
    result: list[Engagement] = []

    def opened_at(low: datetime.date) -> datetime.datetime:
        offset = rng.randint(0, max(0, (horizon - low).days - 30))
        return office_hours(low + datetime.timedelta(days=offset), rng)

    def eligible(kinds, when: datetime.date) -> list[Kind]:
        return [k for k in kinds if k.min_age <= citizen.age_on(when) <= k.max_age]

    def matter(kind: Kind, opened: datetime.datetime, *, may_have_cvr: bool = False) -> Engagement:
        """A jobcentre or ESDH matter. The ``rng`` draws keep their order (timeline, then
        CVR, then hidden): the same seed must give the same demo data."""
        informed, decided, closed, granted = _timeline(kind, opened, rng)
        number = next_number()
        on_cvr = may_have_cvr and kind.party == "cvr_or_cpr" and rng.random() < 0.3
        return engagement_make(
            key=f"c{citizen.index}.{number}",
            number=number,
            kind=kind,
            citizen=citizen,
            opened=opened,
            informed=informed,
            decided=decided,
            closed=closed,
            granted=granted,
            hidden=rng.random() < kind.hidden_rate,
            cvr=cvr_for(number) if on_cvr else None,
        )

    waits_rngs: list[random.Random] = []

    def engagement_make(**fields) -> Engagement:
        """An Engagement with its waits for the citizen, drawn from their own stream only
        (seeded from ``waits_seed`` when the citizen's first case needs it)."""
        kind = fields["kind"]
        if waits_seed is not None and kind.system in WAITING_SYSTEMS:
            if not waits_rngs:
                waits_rngs.append(random.Random(waits_seed))  # noqa: S311 - a seeded simulation, not a secret
            fields["waits"] = _waits(
                kind,
                opened=fields["opened"],
                informed=fields["informed"],
                decided=fields["decided"],
                closed=fields["closed"],
                horizon=horizon,
                rng=waits_rngs[0],
            )
        return Engagement(**fields)

    # Jobcentre matters (FASIT, with payments in KMD Ydelse).
    if rng.random() < 0.35:
        for n in range(2 if rng.random() < 0.25 else 1):
            opened = opened_at(start) if n == 0 else result[-1].opened + _days(rng, 200, 900)
            if opened.date() > horizon:
                break
            kind = _pick(rng, JOBCENTRE_WEIGHTS, eligible(JOBCENTRE_KINDS, opened.date()))
            if kind is None:
                break
            result.append(matter(kind, opened))
    # ESDH matters (SBSYS).
    for _ in range(2 if rng.random() < 0.08 else 1 if rng.random() < 0.3 else 0):
        opened = opened_at(start)
        kind = _pick(rng, ESDH_WEIGHTS, eligible(ESDH_KINDS, opened.date()))
        if kind is None:
            continue
        result.append(matter(kind, opened, may_have_cvr=True))
    # Pensioners: folkepension (KMD Ydelse) and perhaps elder care (Nexus).
    birthday_67 = _birthday(citizen.birth_date, 67)
    if birthday_67 <= horizon:
        first_month = _first_of_next_month(birthday_67)
        paid_from = max(first_month, start)
        if first_month <= start:
            opened = decided = _fixed(start, 6)
        else:
            opened = office_hours(first_month - datetime.timedelta(days=60), rng)
            decided = office_hours(first_month - datetime.timedelta(days=30), rng)
        number = next_number()
        result.append(
            Engagement(
                key=f"c{citizen.index}.{number}",
                number=number,
                kind=KINDS["folkepension"],
                citizen=citizen,
                opened=opened,
                informed=None,
                decided=decided,
                closed=None,
                granted=True,
                paid_from=paid_from,
            )
        )
        age = citizen.age_on(middle)
        if rng.random() < min(0.8, 0.15 + max(0, age - 67) * 0.03):
            low = max(start, first_month)
            if low < horizon - datetime.timedelta(days=60):
                opened = opened_at(low)
                kind = KINDS["visitation"]
                informed, decided, _closed, granted = _timeline(kind, opened, rng)
                number = next_number()
                result.append(
                    engagement_make(
                        key=f"c{citizen.index}.{number}",
                        number=number,
                        kind=kind,
                        citizen=citizen,
                        opened=opened,
                        informed=informed,
                        decided=decided,
                        closed=None,
                        granted=granted,
                        services=_services(rng, decided) if granted else (),
                    )
                )
    return result


def _services(rng: random.Random, decided: datetime.datetime) -> tuple[ServicePeriod, ...]:
    keys = ["personlig_pleje", "rengoering", "madservice", "rollator", "koerestol",
            "badebaenk", "noedkald"]  # fmt: skip
    initial = rng.sample(keys, rng.randint(1, 3))
    periods = []
    for key in initial:
        start = decided.date() + _days(rng, 1, 14)
        periods.append(ServicePeriod(key, start, _service_end(rng, key, start), decided))
    if rng.random() < 0.4:  # an aid added later, e.g. a wheelchair a year on
        extra = rng.choice([k for k in keys if k not in initial])
        granted_at = decided + _days(rng, 60, 500)
        start = granted_at.date() + _days(rng, 1, 10)
        periods.append(ServicePeriod(extra, start, _service_end(rng, extra, start), granted_at))
    return tuple(periods)


def _service_end(rng: random.Random, key: str, start: datetime.date) -> datetime.date | None:
    duration = SERVICES[key].duration
    return start + _days(rng, *duration) if duration else None


def _birthday(born: datetime.date, years: int) -> datetime.date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # 29 February
        return born.replace(year=born.year + years, day=28)


def _first_of_next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


def _demo_engagements(citizen: DemoCitizen, municipality: str, next_number) -> list[Engagement]:
    person = Citizen(
        index=DEMO_NUMBER_BASE + [c.key for c in DEMO_PEOPLE].index(citizen.key),
        cpr=citizen.cpr,
        first_name=citizen.name.split(" ", 1)[0],
        last_name=citizen.name.rsplit(" ", 1)[-1],
        male=citizen.male,
        birth_date=birth_date_of(citizen.cpr),
        street="",
        postcode="",
        town="",
    )
    result = []
    for matter in citizen.matters:
        if matter.municipality != municipality:
            continue
        result.append(_demo_engagement(person, matter, next_number()))
    return result


def _demo_engagement(person: Citizen, matter: DemoMatter, number: int) -> Engagement:
    def after(days: int | None, hour: int) -> datetime.datetime | None:
        if days is None:
            return None
        return _fixed(matter.opened + datetime.timedelta(days=days), hour)

    opened = _fixed(matter.opened, 9)
    decided = after(matter.decided_after, 11)
    granted_from = decided or opened
    services = tuple(
        ServicePeriod(
            key,
            start,
            end,
            granted_from
            if start <= granted_from.date() + datetime.timedelta(days=14)
            else _fixed(start - datetime.timedelta(days=7), 10),
        )
        for key, start, end in matter.services
    )
    return Engagement(
        key=f"demo.{number}",
        number=number,
        kind=KINDS[matter.kind],
        citizen=person,
        opened=opened,
        informed=after(matter.informed_after, 13),
        decided=decided,
        closed=after(matter.closed_after, 14),
        granted=matter.granted,
        hidden=matter.hidden,
        services=services,
        paid_from=matter.opened if matter.kind == "folkepension" else None,
        waits=((_fixed(matter.awaiting_since, 10), None),) if matter.awaiting_since else (),
    )


@functools.lru_cache(maxsize=32)
def world_build(
    *,
    seed: int,
    municipality: str,
    citizens: int,
    start: datetime.date,
    horizon: datetime.date,
    demo: bool = False,
) -> World:
    """The municipality's population and all their matters (deterministic, cached)."""
    if not 0 <= citizens <= CITIZENS_PER_MUNICIPALITY_MAX:
        raise ValueError(f"citizens must be between 0 and {CITIZENS_PER_MUNICIPALITY_MAX}")
    next_number = _Counter()
    people, engagements = [], []
    for index in range(citizens):
        rng = random.Random(f"{seed}:{municipality}:{index}")  # noqa: S311 - a seeded simulation, not a secret
        citizen = citizen_make(municipality=municipality, index=index, rng=rng)
        people.append(citizen)
        # The waits for the citizen come from their own stream: adding them changed nothing else.
        waits_seed = f"{seed}:{municipality}:{index}:waits"
        engagements.extend(
            _random_engagements(citizen, rng, start, horizon, next_number, waits_seed)
        )
    if demo:
        demo_number = _Counter(DEMO_NUMBER_BASE)
        for demo_citizen in DEMO_PEOPLE:
            engagements.extend(_demo_engagements(demo_citizen, municipality, demo_number))
    return World(
        seed=seed,
        municipality=municipality,
        start=start,
        horizon=horizon,
        citizens=tuple(people),
        engagements=tuple(engagements),
    )
