"""What the simulated systems handle: case kinds, their KLE numbers, titles and benefits.

One entry per kind of matter. The KLE numbers are the simulated installation's
"sagsskabeloner" (templates with a KLE number, seed 002, Fredensborg): a feed
may override them (``SimulatorConfig.kle``), e.g. when the index holds the 2015
KLE, in which 15.62.10 (Odense's sheet) does not exist yet.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from indexes.models.common import Sensitivity

FASIT = "FASIT"
SBSYS = "SBSYS"
NEXUS = "Nexus"
KMD_YDELSE = "KMD Ydelse"
PRODUCTS = (FASIT, SBSYS, NEXUS, KMD_YDELSE)


@dataclass(frozen=True)
class EconomicBenefit:
    """A benefit the payments system pays for a matter (YI BevilgetYdelse + plan)."""

    name: str
    kle: str
    monthly: tuple[int, int]  # gross DKK per month, range
    timing: str = "Bagud"  # YI ForudBagud
    reason: str = ""
    repayable: bool = False


@dataclass(frozen=True)
class Kind:
    """A kind of case in one source system."""

    key: str
    system: str
    kle: str
    title: str  # the case title; a good one (lead word, one line, no punctuation)
    unit: str  # responsible organisation unit
    subject: str  # "kontanthjælp": used in document titles
    sensitivity: str = Sensitivity.CONFIDENTIAL
    min_age: int = 18
    max_age: int = 120
    benefit: EconomicBenefit | None = None
    # Typical length of the granted period in days (None: open-ended).
    duration: tuple[int, int] | None = (90, 540)
    refusal_rate: float = 0.15
    hidden_rate: float = 0.0  # share marked "Visning undtaget for borger"
    party: str = "cpr"  # "cpr" or "cvr"
    # Same-topic numbers that KLE has since expired (an old template), for the fault.
    expired_kle: str = ""
    # A number that does not exist in KLE (a typo in the template), for the fault.
    unknown_kle: str = ""
    # What an installation uses when its KLE lacks ``kle`` (the 2015 KLE has no 15.62).
    fallback_kle: str = ""
    documents: tuple[str, ...] = field(default=("application", "summons", "decision"))


KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        # --- FASIT: the jobcentre (seed 002: Odense's sheet, all "FASIT") -------------
        Kind(
            "sygedagpenge",
            FASIT,
            "15.17.06",
            "Opfølgning på sygedagpenge",
            "Sygedagpengeteamet",
            "sygedagpenge",
            Sensitivity.SENSITIVE,
            max_age=66,
            benefit=EconomicBenefit(
                "Sygedagpenge", "32.30.04", (14000, 20500), reason="Sygedagpengeloven § 7"
            ),
            duration=(30, 360),
            refusal_rate=0.05,
            expired_kle="16.19.10",
            unknown_kle="15.71.06",
            documents=("employer_report", "summons", "journal_note", "doctor", "decision"),
        ),
        Kind(
            "kontanthjaelp",
            FASIT,
            "15.62.10",
            "Ansøgning om kontanthjælp",
            "Ydelsesteamet",
            "kontanthjælp",
            min_age=30,
            max_age=66,
            benefit=EconomicBenefit(
                "Kontanthjælp",
                "32.24.04",
                (12000, 16700),
                timing="Forud",
                reason="Lov om aktiv socialpolitik § 11",
                repayable=False,
            ),
            duration=(90, 720),
            expired_kle="16.01.02",
            unknown_kle="15.26.10",
            fallback_kle="32.24.04",
        ),
        Kind(
            "uddannelseshjaelp",
            FASIT,
            "15.62.15",
            "Ansøgning om uddannelseshjælp",
            "Ungeenheden",
            "uddannelseshjælp",
            min_age=18,
            max_age=29,
            benefit=EconomicBenefit(
                "Uddannelseshjælp",
                "32.24.32",
                (6000, 11000),
                timing="Forud",
                reason="Lov om aktiv socialpolitik § 23",
            ),
            duration=(90, 540),
            unknown_kle="15.26.15",
            fallback_kle="32.24.32",
        ),
        Kind(
            "ressourceforloeb",
            FASIT,
            "15.17.22",
            "Vurdering af ressourceforløb",
            "Rehabiliteringsteamet",
            "ressourceforløb",
            Sensitivity.SENSITIVE,
            min_age=25,
            max_age=66,
            benefit=EconomicBenefit(
                "Ressourceforløbsydelse",
                "32.24.28",
                (12000, 16700),
                timing="Forud",
                reason="Lov om aktiv socialpolitik § 68",
            ),
            duration=(365, 1095),
            refusal_rate=0.2,
            unknown_kle="15.71.22",
            documents=("application", "summons", "journal_note", "plan", "decision"),
        ),
        Kind(
            "fleksjob",
            FASIT,
            "15.20.24",
            "Visitation til fleksjob",
            "Fleksjobteamet",
            "fleksjob",
            Sensitivity.SENSITIVE,
            min_age=25,
            max_age=66,
            benefit=EconomicBenefit(
                "Fleksløntilskud", "32.27.10", (6000, 12000), reason="Fleksløntilskud § 70 f"
            ),
            duration=None,
            refusal_rate=0.25,
            expired_kle="16.01.21",
            unknown_kle="15.02.24",
        ),
        Kind(
            "revalidering",
            FASIT,
            "15.17.12",
            "Ansøgning om revalidering",
            "Revalideringsteamet",
            "revalidering",
            min_age=20,
            max_age=60,
            benefit=EconomicBenefit(
                "Revalideringsydelse",
                "32.24.08",
                (16000, 21000),
                reason="Lov om aktiv socialpolitik § 52",
            ),
            duration=(180, 720),
            refusal_rate=0.3,
            expired_kle="16.01.20",
            unknown_kle="15.71.12",
        ),
        # --- SBSYS: the municipality's ESDH, many areas ----------------------------------
        Kind(
            "byggetilladelse",
            SBSYS,
            "02.34.02",
            "Ansøgning om byggetilladelse til carport",
            "Byg og Miljø",
            "byggetilladelse",
            Sensitivity.NOT_CONFIDENTIAL,
            duration=None,
            refusal_rate=0.1,
            party="cvr_or_cpr",
            unknown_kle="02.43.02",
            documents=("application", "receipt", "internal_note", "decision"),
        ),
        Kind(
            "hegnssyn",
            SBSYS,
            "02.00.10",
            "Anmodning om hegnssyn",
            "Byg og Miljø",
            "hegnssyn",
            Sensitivity.NOT_CONFIDENTIAL,
            duration=None,
            refusal_rate=0.3,
            expired_kle="02.00.01",
            unknown_kle="02.00.91",
            documents=("application", "receipt", "decision"),
        ),
        Kind(
            "parkeringsdispensation",
            SBSYS,
            "05.09.12",
            "Ansøgning om parkeringsdispensation",
            "Vej og Park",
            "parkeringsdispensation",
            Sensitivity.NOT_CONFIDENTIAL,
            duration=(180, 365),
            refusal_rate=0.3,
            documents=("application", "decision"),
        ),
        Kind(
            "aeldrebolig",
            SBSYS,
            "27.45.04",
            "Ansøgning om ældrebolig",
            "Visitationen",
            "ældrebolig",
            min_age=65,
            duration=None,
            refusal_rate=0.3,
            documents=("application", "receipt", "journal_note", "decision"),
        ),
        Kind(
            "helbredstillaeg",
            SBSYS,
            "32.03.12",
            "Ansøgning om helbredstillæg",
            "Pension og Boligstøtte",
            "helbredstillæg",
            min_age=67,
            duration=None,
            refusal_rate=0.2,
            expired_kle="16.16.10",
            documents=("application", "decision"),
        ),
        Kind(
            "enkeltudgifter",
            SBSYS,
            "32.21.12",
            "Ansøgning om hjælp til enkeltudgifter",
            "Ydelsesteamet",
            "hjælp til enkeltudgifter",
            duration=None,
            refusal_rate=0.5,
            expired_kle="16.28.01",
            documents=("application", "decision"),
        ),
        Kind(
            "aktindsigt",
            SBSYS,
            "00.07.03",
            "Anmodning om aktindsigt i egen sag",
            "Borgerservice",
            "aktindsigt",
            duration=None,
            refusal_rate=0.1,
            documents=("application", "decision"),
        ),
        Kind(
            "handleplan",
            SBSYS,
            "27.12.12",
            "Plan for indsats efter serviceloven",
            "Socialafdelingen",
            "handleplan",
            Sensitivity.SENSITIVE,
            duration=(180, 720),
            refusal_rate=0.0,
            hidden_rate=1.0,
            documents=("journal_note", "plan", "internal_note"),
        ),
        Kind(
            "boerneundersoegelse",
            SBSYS,
            "27.24.03",
            "Vurdering af støtte til barn",
            "Familieafdelingen",
            "børnefaglig undersøgelse",
            Sensitivity.SENSITIVE,
            min_age=25,
            max_age=55,
            duration=(120, 240),
            refusal_rate=0.0,
            hidden_rate=0.5,
            documents=("summons", "journal_note", "internal_note", "decision"),
        ),
        # --- Nexus: elder care; the matter is the visitation, the services are its grant -----
        Kind(
            "visitation",
            NEXUS,
            "27.36.20",
            "Visitation til hjemmehjælp",
            "Visitationen",
            "hjemmehjælp",
            Sensitivity.SENSITIVE,
            min_age=67,
            duration=None,
            refusal_rate=0.1,
            expired_kle="16.08.01",
            unknown_kle="27.63.20",
            documents=(),
        ),
        # --- KMD Ydelse: pensions without a jobcentre case ----------------------------
        Kind(
            "folkepension",
            KMD_YDELSE,
            "32.03.04",
            "Bevilling af folkepension",
            "Pension og Boligstøtte",
            "folkepension",
            min_age=67,
            duration=None,
            refusal_rate=0.0,
            expired_kle="16.16.02",
            benefit=EconomicBenefit(
                "Folkepension",
                "32.03.04",
                (14500, 16800),
                timing="Forud",
                reason="Lov om social pension § 12",
            ),
            documents=(),
        ),
    )
}


@dataclass(frozen=True)
class Service:
    """An elder-care service or aid (YI BevilgetYdelse, kind "service")."""

    key: str
    name: str
    kle: str
    description: str
    delivered_by: str
    duration: tuple[int, int] | None  # None: until further notice


SERVICES: dict[str, Service] = {
    service.key: service
    for service in (
        Service(
            "personlig_pleje",
            "Personlig pleje",
            "27.36.04",
            "Morgen alle dage 30 minutter pr gang",
            "Hjemmeplejen",
            None,
        ),
        Service(
            "rengoering",
            "Rengøring (FSIII)",
            "27.36.04",
            "Dag 1 gang hver 2 uge 45 minutter pr gang",
            "Rengøringsenheden",
            (180, 720),
        ),
        Service(
            "madservice",
            "Madservice",
            "27.36.24",
            "Levering af 7 hovedretter om ugen",
            "Madservice Køkkenet",
            (60, 400),
        ),
        Service(
            "rollator",
            "Rollator",
            "27.60.08",
            "Udlånt fra hjælpemiddeldepotet",
            "Hjælpemiddeldepotet",
            None,
        ),
        Service(
            "koerestol",
            "Kørestol, manuel",
            "27.60.08",
            "Udlånt fra hjælpemiddeldepotet med tilpasning",
            "Hjælpemiddeldepotet",
            None,
        ),
        Service(
            "badebaenk",
            "Badebænk",
            "27.60.12",
            "Udlånt fra hjælpemiddeldepotet",
            "Hjælpemiddeldepotet",
            None,
        ),
        Service(
            "noedkald",
            "Nødkald",
            "27.60.14",
            "Nødkald med døgnvagt",
            "Hjemmeplejen",
            None,
        ),
        Service(
            "knallert",
            "Hjælpemiddel - Knallert",
            "27.60.08",
            "El-knallert udlånt fra hjælpemiddeldepotet",
            "Hjælpemiddeldepotet",
            (120, 400),
        ),
        Service(
            "filterbrille",
            "Filterbrille - Biocover Black Lange",
            "27.60.04",
            "Kropsbåren hjælpemiddel efter serviceloven § 112",
            "Hjælpemiddeldepotet",
            None,
        ),
    )
}

JOBCENTRE_KINDS = tuple(k for k in KINDS.values() if k.system == FASIT)
ESDH_KINDS = tuple(k for k in KINDS.values() if k.system == SBSYS)

# Tax on benefits (A-skat) in the payments simulator: a withholding rate and a
# monthly allowance (fradrag) per citizen, as on a real tax card.
TAX_RATE_RANGE = (Decimal("0.36"), Decimal("0.41"))
MONTHLY_ALLOWANCE_RANGE = (3900, 4600)


def kle_overrides_for(*, present: set[str]) -> dict[str, str]:
    """Template numbers to use with an index whose KLE holds only ``present`` numbers.

    A kind whose own number is missing falls back to ``fallback_kle`` (e.g. the 2015
    KLE's 32.24.04 for kontanthjælp instead of 15.62.10).
    """
    return {
        kind.key: kind.fallback_kle
        for kind in KINDS.values()
        if kind.kle not in present and kind.fallback_kle in present
    }
