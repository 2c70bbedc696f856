"""The simulated source systems, one per product; see each module for its habits."""

import functools

from simulators.catalogue import FASIT, KMD_YDELSE, NEXUS, SBSYS
from simulators.systems.base import (
    SimChange,
    Simulator,
    SimulatorConfig,
    SimulatorRequestError,
)
from simulators.systems.fasit import FasitSimulator
from simulators.systems.nexus import NexusSimulator
from simulators.systems.payments import PaymentsSimulator
from simulators.systems.sbsys import SbsysSimulator

SIMULATORS: dict[str, type[Simulator]] = {
    FASIT: FasitSimulator,
    SBSYS: SbsysSimulator,
    NEXUS: NexusSimulator,
    KMD_YDELSE: PaymentsSimulator,
}


@functools.lru_cache(maxsize=64)
def simulator_get(*, product: str, municipality: str, config: SimulatorConfig) -> Simulator:
    """The simulator of ``product`` at ``municipality`` (cached: its log is built once)."""
    try:
        simulator_class = SIMULATORS[product]
    except KeyError:
        raise ValueError(f"no simulator for product {product!r}") from None
    return simulator_class(municipality=municipality, config=config)


__all__ = [
    "SIMULATORS",
    "SimChange",
    "Simulator",
    "SimulatorConfig",
    "SimulatorRequestError",
    "simulator_get",
]
