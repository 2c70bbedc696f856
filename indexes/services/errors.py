"""What the ingestion services raise when a record cannot be accepted or found.

A ``Problem`` names one thing wrong with a delivered record: where it is (a JSON
pointer into the record, RFC 6901), a stable machine-readable code and a
human-readable message. Messages never contain a CPR number (DOMAIN.md §6) and
never reveal anything about records of other source systems.
"""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    """One problem with a delivered record, e.g. ``Problem("/party/cpr", "invalid_cpr", …)``."""

    pointer: str  # JSON pointer into the record, "" for the record as a whole
    code: str  # e.g. "invalid_cpr", "unknown_kle", "kle_expired"
    message: str  # Danish or English; never echoes a CPR number

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class RecordRejected(Exception):
    """The record was not accepted; nothing of it was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(f"{p.pointer or '/'}: {p.code}" for p in self.problems))

    def as_list(self) -> list[dict[str, str]]:
        return [problem.as_dict() for problem in self.problems]


class RecordNotFound(Exception):
    """No such record of this source system (also for other systems' records: no leak)."""


def pointer_join(base: str, *parts: str | int) -> str:
    """Extend a JSON pointer, escaping ``~`` and ``/`` in keys (RFC 6901 §3)."""
    escaped = [str(part).replace("~", "~0").replace("/", "~1") for part in parts]
    return "/".join([base, *escaped]) if escaped else base


def nul_free(value):
    """``value`` (text, or JSON of dicts and lists) with every NUL written out as ``\\u0000``.

    PostgreSQL text and jsonb cannot hold a NUL, and what is kept of a rejected
    record (its id, a field name in a pointer, its timestamp) may carry one.
    """
    if isinstance(value, str):
        return value.replace("\x00", "\\u0000")
    if isinstance(value, dict):
        return {nul_free(key): nul_free(item) for key, item in value.items()}
    if isinstance(value, list):
        return [nul_free(item) for item in value]
    return value
