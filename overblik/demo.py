"""The demo citizens: who can log in through the local mock MitID broker.

The CPR numbers are made up for the demo and the tests. The same list feeds the
mock provider (`python -m overblik.mock_oidc`) and the demo data.
"""

from dataclasses import dataclass

NSIS_SUBSTANTIAL = "https://data.gov.dk/concept/core/nsis/loa/Substantial"
NSIS_HIGH = "https://data.gov.dk/concept/core/nsis/loa/High"
NSIS_LOW = "https://data.gov.dk/concept/core/nsis/loa/Low"


@dataclass(frozen=True)
class DemoCitizen:
    sub: str  # the broker's pseudonymous subject, never the CPR number
    name: str
    cpr: str
    loa: str
    about: str  # what the demo shows with this citizen (Danish)


DEMO_CITIZENS = (
    DemoCitizen(
        sub="demo-kim",
        name="Kim Borgersen",
        cpr="1111501111",
        loa=NSIS_SUBSTANTIAL,
        about="Sager, ydelser og hjælpemidler i to kommuner",
    ),
    DemoCitizen(
        sub="demo-hans",
        name="Hans Emil Hansen",
        cpr="2202602222",
        loa=NSIS_HIGH,
        about="Kontanthjælp med udbetalinger",
    ),
    DemoCitizen(
        sub="demo-ingrid",
        name="Ingrid Nielsen",
        cpr="0303703333",
        loa=NSIS_SUBSTANTIAL,
        about="Ingen sager eller ydelser",
    ),
    DemoCitizen(
        sub="demo-lav-sikring",
        name="Lars Lavsikring",
        cpr="0404804444",
        loa=NSIS_LOW,
        about="Logger ind med for lavt sikringsniveau og bliver afvist",
    ),
)


def demo_claims(citizen: DemoCitizen, *, cpr_claim: str, loa_claim: str, name_claim: str) -> dict:
    """The claims the mock broker issues for a demo citizen."""
    return {cpr_claim: citizen.cpr, loa_claim: citizen.loa, name_claim: citizen.name}
