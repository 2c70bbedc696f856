"""The demo citizens: who can log in through the local mock MitID broker.

The people (and their made-up CPR numbers) are the shared demo list of
``simulators.demo_citizens``, whose matters `make run` loads through the
simulated source systems; here they get the assurance level they log in with.
"""

from dataclasses import dataclass

from simulators.demo_citizens import DEMO_CITIZENS as WORLD_CITIZENS

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


# One shared list of demo people (simulators.demo_citizens): `demo_load`
# makes the simulated source systems deliver their matters, and the mock broker
# logs them in. The portal adds the assurance level each one logs in with.
_ASSURANCE = {"demo-hans": NSIS_HIGH, "demo-lav-sikring": NSIS_LOW}

DEMO_CITIZENS = tuple(
    DemoCitizen(
        sub=person.key,
        name=person.name,
        cpr=person.cpr,
        loa=_ASSURANCE.get(person.key, NSIS_SUBSTANTIAL),
        about=person.about,
    )
    for person in WORLD_CITIZENS
)


def demo_claims(citizen: DemoCitizen, *, cpr_claim: str, loa_claim: str, name_claim: str) -> dict:
    """The claims the mock broker issues for a demo citizen."""
    return {cpr_claim: citizen.cpr, loa_claim: citizen.loa, name_claim: citizen.name}
