"""The faults real source systems make, at configurable rates.

Each is drawn per record from the feed's seed, so a seed always produces the
same faulty records. Which Borgerblikket data-quality check finds each fault is
documented in docs/sources.md ("Faults and where they surface").
"""

import random
from dataclasses import asdict, dataclass, fields

FAULTS = {
    "kle_unknown": "KLE-nummer findes ikke (tastefejl i sagsskabelonen)",
    "kle_expired": "Udgået KLE-nummer (gammel sagsskabelon)",
    "cpr_missing": "Manglende CPR-nummer på borgersag",
    "duplicate": "Samme levering to gange",
    "out_of_order": "Opdateringer i forkert rækkefølge",
    "unclosed": "Sag afsluttet i fagsystemet uden afsluttende fremdrift",
    "bad_title": "Titel bryder titelreglerne",
    "party_missing": "Brev uden afsender eller modtager (fysisk post journaliseret uden afsender)",
}


@dataclass(frozen=True)
class FaultRates:
    """Probability per record (0-1) of each fault."""

    kle_unknown: float = 0.0
    kle_expired: float = 0.0
    cpr_missing: float = 0.0
    duplicate: float = 0.0
    out_of_order: float = 0.0
    unclosed: float = 0.0
    bad_title: float = 0.0
    party_missing: float = 0.0

    def __post_init__(self):
        for item in fields(self):
            rate = getattr(self, item.name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rate {item.name} must be between 0 and 1, not {rate}")

    @classmethod
    def realistic(cls) -> "FaultRates":
        """A few percent of everything, as a municipality sees before its clean-up."""
        return cls(
            kle_unknown=0.02,
            kle_expired=0.03,
            cpr_missing=0.02,
            duplicate=0.03,
            out_of_order=0.03,
            unclosed=0.05,
            bad_title=0.08,
            party_missing=0.04,
        )

    @classmethod
    def from_dict(cls, data: dict | None) -> "FaultRates":
        data = data or {}
        unknown = set(data) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        return cls(**{name: float(rate) for name, rate in data.items()})

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def fault_drawn(*, rates: FaultRates, fault: str, key: str) -> bool:
    """Whether the record ``key`` (stable, e.g. "<seed>:<system>:<id>") has ``fault``."""
    rate = getattr(rates, fault)
    if rate <= 0.0:
        return False
    return random.Random(f"{key}:{fault}").random() < rate  # noqa: S311 - a seeded simulation, not a secret
