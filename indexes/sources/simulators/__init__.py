"""The simulated source systems, one per product; see each module for its habits."""

import functools

from indexes.sources.catalogue import FASIT, KMD_YDELSE, NEXUS, SBSYS
from indexes.sources.simulators.base import (
    SimChange,
    Simulator,
    SimulatorConfig,
    SimulatorRequestError,
)
from indexes.sources.simulators.fasit import FasitSimulator
from indexes.sources.simulators.nexus import NexusSimulator
from indexes.sources.simulators.payments import PaymentsSimulator
from indexes.sources.simulators.sbsys import SbsysSimulator

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
