"""The demo citizens and what the simulated source systems hold about them.

One shared list: the portal's mock MitID broker logs these people in
(``overblik`` adds the assurance level), and ``demo_load`` makes the simulators
deliver their matters. It lives in ``indexes`` because the simulators need it and
dependencies point one way (kle ← indexes ← borgerblikket ← overblik).

The CPR numbers are made up: real-looking past birth dates whose serial fails
the modulus-11 check (see ``simulators.cpr``). The first four are the
portal's original demo numbers, kept so logins keep working; their last digit
does not always match the person's sex (nothing shows it). ``key`` is the
broker's pseudonymous subject, never the CPR number.

Each ``DemoMatter`` is one matter in one municipality's source system, with its
own dates; the README says which citizen shows what.
"""

import datetime
from dataclasses import dataclass, field


@dataclass(frozen=True)
class DemoMatter:
    """A scripted matter: a case (and, for benefits, its grant and payments)."""

    municipality: str
    kind: str  # a key of simulators.catalogue.KINDS
    opened: datetime.date
    informed_after: int | None = 14  # days after opened
    decided_after: int | None = 30  # days after opened
    closed_after: int | None = None  # days after opened; None: still open
    granted: bool = True
    hidden: bool = False  # "Visning undtaget for borger"
    # The municipality waits for the citizen since this day (still waiting): "Afventer
    # dig". Only on an open matter, after its last status change.
    awaiting_since: datetime.date | None = None
    # Nexus: (service key, start, end or None)
    services: tuple[tuple[str, datetime.date, datetime.date | None], ...] = ()
    note: str = ""  # why the matter is in the demo (Danish, for the README)


@dataclass(frozen=True)
class DemoCitizen:
    key: str  # the mock broker's subject ("sub")
    name: str
    cpr: str
    male: bool
    about: str  # what the demo shows with this citizen (Danish)
    matters: tuple[DemoMatter, ...] = field(default=())

    @property
    def municipalities(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(matter.municipality for matter in self.matters))


D = datetime.date
ODENSE, SYDDJURS, FREDENSBORG = "461", "706", "210"

DEMO_CITIZENS: tuple[DemoCitizen, ...] = (
    DemoCitizen(
        key="demo-kim",
        name="Kim Borgersen",
        cpr="1111501111",
        male=True,
        about="Sager, ydelser og hjælpemidler i to kommuner",
        matters=(
            DemoMatter(
                ODENSE,
                "visitation",
                D(2020, 3, 2),
                7,
                19,
                closed_after=850,
                services=(
                    ("rengoering", D(2020, 3, 21), D(2020, 12, 31)),
                    ("rollator", D(2020, 4, 1), D(2022, 6, 30)),
                ),
                note="Hjemmehjælp i Odense: Odenses ark viser ikke ældreområdet",
            ),
            DemoMatter(
                ODENSE,
                "aeldrebolig",
                D(2021, 9, 6),
                10,
                40,
                closed_after=70,
                granted=False,
                note="Afslag på ældrebolig i Odense: skjult af arket",
            ),
            DemoMatter(
                ODENSE,
                "folkepension",
                D(2019, 1, 1),
                None,
                0,
                closed_after=1276,
                note="Folkepension fra Odense indtil flytningen",
            ),
            DemoMatter(
                FREDENSBORG,
                "visitation",
                D(2022, 8, 15),
                5,
                20,
                services=(
                    ("knallert", D(2022, 12, 1), D(2023, 5, 8)),
                    ("filterbrille", D(2023, 2, 19), None),
                    ("personlig_pleje", D(2024, 1, 8), None),
                    ("rengoering", D(2024, 1, 8), None),
                ),
                note="Hjælpemidler og hjemmehjælp i Fredensborg",
            ),
            DemoMatter(
                FREDENSBORG,
                "folkepension",
                D(2022, 7, 1),
                None,
                0,
                note="Folkepension med månedlige udbetalinger",
            ),
            DemoMatter(
                FREDENSBORG,
                "helbredstillaeg",
                D(2024, 5, 13),
                12,
                33,
                closed_after=45,
                note="Bevilling af helbredstillæg med dokumenttitler",
            ),
            DemoMatter(
                FREDENSBORG,
                "parkeringsdispensation",
                D(2023, 4, 3),
                9,
                21,
                closed_after=30,
                note="Parkeringsdispensation: Fredensborgs ark viser ikke området",
            ),
        ),
    ),
    DemoCitizen(
        key="demo-hans",
        name="Hans Emil Hansen",
        cpr="2202602222",
        male=True,
        about="Kontanthjælp med udbetalinger",
        matters=(
            DemoMatter(
                SYDDJURS,
                "sygedagpenge",
                D(2020, 2, 3),
                10,
                21,
                closed_after=120,
                note="Sygedagpenge oprettet før Syddjurs' fradato: skjult (regel 4)",
            ),
            DemoMatter(
                SYDDJURS,
                "sygedagpenge",
                D(2023, 9, 4),
                12,
                25,
                closed_after=170,
                note="Sygedagpengeopfølgning med breve og udbetalinger",
            ),
            DemoMatter(
                SYDDJURS,
                "kontanthjaelp",
                D(2024, 3, 4),
                9,
                24,
                awaiting_since=D(2026, 11, 2),
                note="Kontanthjælp med månedlige udbetalinger; kommunen venter på Hans "
                "(Afventer dig)",
            ),
            DemoMatter(
                SYDDJURS,
                "enkeltudgifter",
                D(2024, 10, 7),
                8,
                20,
                closed_after=60,
                granted=False,
                note="Afslag på hjælp til enkeltudgifter",
            ),
        ),
    ),
    DemoCitizen(
        key="demo-mette",
        name="Mette Nielsen",
        cpr="1507854312",
        male=False,
        about="Jobcentersager i Odense, også nogle der ikke vises",
        matters=(
            DemoMatter(
                ODENSE,
                "ressourceforloeb",
                D(2019, 6, 3),
                20,
                60,
                closed_after=400,
                note="Ressourceforløb oprettet før Odenses fradato: skjult (regel 4)",
            ),
            DemoMatter(
                ODENSE,
                "sygedagpenge",
                D(2023, 1, 9),
                14,
                30,
                closed_after=240,
                note="Sygedagpengeopfølgning: vist med tidslinje",
            ),
            DemoMatter(
                ODENSE,
                "fleksjob",
                D(2023, 10, 2),
                21,
                60,
                awaiting_since=D(2026, 10, 19),
                note="Visitation til fleksjob: åben sag, hvor kommunen venter på Mette "
                "(Afventer dig)",
            ),
            DemoMatter(
                ODENSE,
                "revalidering",
                D(2024, 6, 3),
                14,
                45,
                hidden=True,
                note="Revalidering markeret 'Visning undtaget for borger'",
            ),
            DemoMatter(
                ODENSE,
                "byggetilladelse",
                D(2024, 8, 12),
                10,
                35,
                closed_after=40,
                note="Byggetilladelse: Odenses ark viser ikke byggeområdet",
            ),
        ),
    ),
    DemoCitizen(
        key="demo-ingrid",
        name="Ingrid Nielsen",
        cpr="0303703333",
        male=False,
        about="Ingen sager eller ydelser",
    ),
    DemoCitizen(
        key="demo-lav-sikring",
        name="Lars Lavsikring",
        cpr="0404804444",
        male=True,
        about="Logger ind med for lavt sikringsniveau og bliver afvist",
        matters=(
            DemoMatter(
                FREDENSBORG,
                "sygedagpenge",
                D(2024, 2, 5),
                10,
                30,
                note="Har en sag, men kan ikke se den med lavt sikringsniveau",
            ),
        ),
    ),
    DemoCitizen(
        key="demo-sofie",
        name="Sofie Borgersen",
        cpr="1405781000",
        male=False,
        about="Kims datter: fuldmagt til hans hjemmehjælp og hjælpemidler (ikke pension)",
    ),
)


# Children cannot log in here; a parent with custody sees them (the CPR relations
# stand-in, simulators/relations). Their matters are delivered like the citizens'.
DEMO_CHILDREN: tuple[DemoCitizen, ...] = (
    DemoCitizen(
        key="demo-barn-emil",
        name="Emil Hansen",
        cpr="0904164001",
        male=True,
        about="Hans Emil Hansens søn (10 år): en kørestol fra Syddjurs",
        matters=(
            DemoMatter(
                SYDDJURS,
                "visitation",
                D(2025, 2, 3),
                6,
                20,
                services=(("koerestol", D(2025, 3, 1), None),),
                note="Hjælpemiddel til et barn: forælderen ser sagen",
            ),
        ),
    ),
)
# Everyone the simulated systems deliver matters for.
DEMO_PEOPLE: tuple[DemoCitizen, ...] = DEMO_CITIZENS + DEMO_CHILDREN


def demo_citizen_get(*, key: str) -> DemoCitizen:
    """The demo citizen with this key (the broker's subject); KeyError if none."""
    for citizen in DEMO_CITIZENS:
        if citizen.key == key:
            return citizen
    raise KeyError(key)
