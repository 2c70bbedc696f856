"""What every simulated source system shares: config, its change log, faults, paging.

A simulator turns its part of the world (``simulators.world``) into a
*change log*: every version of every record, in the index wire format (the
"truth" an adapter must reproduce), each with the moment the system makes it
available (``delivered_at``). A feed page is a slice of that log from a cursor,
limited to what has been delivered by ``now`` — so a feed grows as time
passes — and rendered in the system's own wire format.
"""

import bisect
import datetime
import random
from dataclasses import dataclass, field, fields, replace
from functools import cached_property

from django.utils import timezone

from indexes.models.common import Sensitivity
from simulators import danish
from simulators.catalogue import KINDS, Kind
from simulators.faults import FaultRates, fault_drawn
from simulators.world import TZ, Engagement, World, world_build

WIRE_KINDS = ("case", "document", "grant", "payment")


class SimulatorRequestError(ValueError):
    """A feed request the simulated system refuses (bad cursor or parameter)."""


@dataclass(frozen=True)
class SimulatorConfig:
    """How a simulated installation behaves; stored as JSON on its feed."""

    seed: int = 1
    citizens: int = 50
    start: datetime.date = datetime.date(2019, 1, 1)
    horizon: datetime.date = datetime.date(2027, 12, 31)
    demo: bool = False  # include the scripted demo citizens living in this municipality
    faults: FaultRates = field(default_factory=FaultRates)
    # Template KLE numbers to override, as (kind or benefit name, number) pairs.
    kle: tuple[tuple[str, str], ...] = ()
    latency_ms: int = 0  # the system's response time (realism; tests of interruption)

    def __post_init__(self):
        # Accept plain JSON-ish values too (dicts, ISO dates); store the typed forms.
        for name in ("start", "horizon"):
            if isinstance(getattr(self, name), str):
                object.__setattr__(self, name, datetime.date.fromisoformat(getattr(self, name)))
        if isinstance(self.faults, dict):
            object.__setattr__(self, "faults", FaultRates.from_dict(self.faults))
        if isinstance(self.kle, dict):
            object.__setattr__(self, "kle", tuple(sorted(self.kle.items())))
        if self.horizon <= self.start:
            raise ValueError("horizon must be after start")
        if self.citizens < 0 or self.latency_ms < 0:
            raise ValueError("citizens and latency_ms must not be negative")

    @classmethod
    def from_dict(cls, data: dict | None) -> "SimulatorConfig":
        data = dict(data or {})
        known = {item.name for item in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown simulator setting(s): {', '.join(sorted(unknown))}")
        if "kle" in data and not isinstance(data["kle"], dict):
            data["kle"] = {str(k): str(v) for k, v in data["kle"]}
        return cls(**data)

    def as_dict(self) -> dict:
        return {
            "seed": self.seed,
            "citizens": self.citizens,
            "start": self.start.isoformat(),
            "horizon": self.horizon.isoformat(),
            "demo": self.demo,
            "faults": self.faults.as_dict(),
            "kle": dict(self.kle),
            "latency_ms": self.latency_ms,
        }


@dataclass(frozen=True)
class SimChange:
    """One version of one record as the system delivers it."""

    delivered_at: datetime.datetime
    kind: str  # case, document, grant, payment
    external_id: str
    payload: dict  # the index wire format: what the adapter must produce
    faults: tuple[str, ...] = ()
    seq: int = 0  # position in the log (0-based), set once the log is ordered

    @property
    def source_timestamp(self) -> datetime.datetime:
        return datetime.datetime.fromisoformat(self.payload["source_timestamp"])


def iso(moment: datetime.datetime) -> str:
    return moment.astimezone(TZ).isoformat()


def money(amount) -> str:
    return f"{amount:.2f}"


@dataclass
class Draft:
    """A record version before delivery faults and ordering."""

    kind: str
    external_id: str
    payload: dict
    faults: tuple[str, ...] = ()


class Simulator:
    """Base class: subclasses generate drafts and render pages in their own format."""

    product: str = ""
    path: str = ""  # HTTP path below /<municipality>/
    media_type: str = "application/octet-stream"

    def __init__(self, *, municipality: str, config: SimulatorConfig):
        self.municipality = municipality
        self.config = config
        # Set while drafting a demo citizen's matter: the demo's records are never
        # faulty (their delivery may still be duplicated or overtaken).
        self._exempt = False

    # --- the world and the log --------------------------------------------------------

    @cached_property
    def world(self) -> World:
        return world_build(
            seed=self.config.seed,
            municipality=self.municipality,
            citizens=self.config.citizens,
            start=self.config.start,
            horizon=self.config.horizon,
            demo=self.config.demo,
        )

    def drafts(self) -> list[Draft]:
        """Every version of every record, in source-timestamp order per record."""
        raise NotImplementedError

    def delivered_at(self, moment: datetime.datetime) -> datetime.datetime:
        """When the system makes a change registered at ``moment`` available."""
        return moment + datetime.timedelta(minutes=2)

    @cached_property
    def log(self) -> tuple[SimChange, ...]:
        """The change log in delivery order, with delivery faults applied."""
        end = timezone.make_aware(
            datetime.datetime.combine(self.config.horizon, datetime.time.max), TZ
        )
        entries: list[tuple[datetime.datetime, int, SimChange]] = []
        by_record: dict[tuple[str, str], list[int]] = {}
        for draft in self.drafts():
            moment = datetime.datetime.fromisoformat(draft.payload["source_timestamp"])
            if moment > end:
                continue
            change = SimChange(
                delivered_at=self.delivered_at(moment),
                kind=draft.kind,
                external_id=draft.external_id,
                payload=draft.payload,
                faults=draft.faults,
            )
            by_record.setdefault((draft.kind, draft.external_id), []).append(len(entries))
            entries.append((change.delivered_at, len(entries), change))
        self._fault_out_of_order(entries, by_record)
        self._fault_duplicates(entries)
        entries.sort(key=lambda entry: (entry[0], entry[1]))
        return tuple(replace(change, seq=n) for n, (_at, _order, change) in enumerate(entries))

    def _fault_out_of_order(self, entries, by_record) -> None:
        # A later version overtakes an earlier one (never the first: documents
        # and payments depend on their case or grant existing).
        for (kind, external_id), positions in by_record.items():
            if len(positions) < 3:
                continue
            key = self.fault_key(kind, external_id)
            if not fault_drawn(rates=self.config.faults, fault="out_of_order", key=key):
                continue
            rng = random.Random(f"{key}:out_of_order:pair")  # noqa: S311 - a seeded simulation, not a secret
            k = rng.randint(1, len(positions) - 2)
            earlier, later = positions[k], positions[k + 1]
            _at, order, change = entries[earlier]
            moved = entries[later][0] + datetime.timedelta(minutes=rng.randint(1, 30))
            entries[earlier] = (
                moved,
                order,
                replace(change, delivered_at=moved, faults=(*change.faults, "out_of_order")),
            )

    def _fault_duplicates(self, entries) -> None:
        for position in range(len(entries)):
            at, _order, change = entries[position]
            key = f"{self.fault_key(change.kind, change.external_id)}:{change.payload['source_timestamp']}"
            if not fault_drawn(rates=self.config.faults, fault="duplicate", key=key):
                continue
            rng = random.Random(f"{key}:duplicate:when")  # noqa: S311 - a seeded simulation, not a secret
            again = at + datetime.timedelta(minutes=rng.randint(60, 3 * 24 * 60))
            entries.append(
                (
                    again,
                    len(entries),
                    replace(change, delivered_at=again, faults=(*change.faults, "duplicate")),
                )
            )

    @cached_property
    def _delivered(self) -> list[datetime.datetime]:
        return [change.delivered_at for change in self.log]

    def visible_count(self, now: datetime.datetime) -> int:
        """How many log entries have been delivered by ``now``."""
        return bisect.bisect_right(self._delivered, now)

    def truth(self, *, now: datetime.datetime | None = None) -> dict[tuple[str, str], dict]:
        """The newest version (by source timestamp) of every record delivered by ``now``."""
        result: dict[tuple[str, str], dict] = {}
        limit = self.visible_count(now) if now else len(self.log)
        for change in self.log[:limit]:
            key = (change.kind, change.external_id)
            if key not in result or (
                change.source_timestamp
                > datetime.datetime.fromisoformat(result[key]["source_timestamp"])
            ):
                result[key] = change.payload
        return result

    # --- paging (the system's side of the feed) -----------------------------------------

    def page(self, *, params: dict[str, str], now: datetime.datetime) -> bytes:
        """Render the page the request ``params`` ask for, as the system would."""
        raise NotImplementedError

    def _int_param(self, params: dict[str, str], name: str, default: int, low: int = 0) -> int:
        raw = params.get(name, "")
        if raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SimulatorRequestError(f"{name} must be an integer") from None
        if value < low:
            raise SimulatorRequestError(f"{name} must be at least {low}")
        return value

    # --- helpers for subclasses: faults, KLE, titles, parties -------------------------------

    def fault_key(self, kind: str, external_id: str) -> str:
        return f"{self.config.seed}:{self.municipality}:{self.product}:{kind}:{external_id}"

    def has_fault(self, fault: str, kind: str, external_id: str) -> bool:
        if self._exempt:
            return False
        return fault_drawn(
            rates=self.config.faults, fault=fault, key=self.fault_key(kind, external_id)
        )

    def kle_for(self, key: str, default: str) -> str:
        """The installation's template number for a kind or benefit (config overrides)."""
        return dict(self.config.kle).get(key, default)

    def kle_with_faults(
        self, *, kind: Kind, key: str, default: str, record: str, wire_kind: str = "case"
    ) -> tuple[str, tuple[str, ...]]:
        number = self.kle_for(key, default)
        if kind.unknown_kle and self.has_fault("kle_unknown", wire_kind, record):
            return kind.unknown_kle, ("kle_unknown",)
        if kind.expired_kle and self.has_fault("kle_expired", wire_kind, record):
            return kind.expired_kle, ("kle_expired",)
        return number, ()

    def title_with_faults(
        self, *, good: str, record: str, wire_kind: str
    ) -> tuple[str, tuple[str, ...]]:
        if not self.has_fault("bad_title", wire_kind, record):
            return good, ()
        rng = random.Random(f"{self.fault_key(wire_kind, record)}:bad_title:which")  # noqa: S311 - a seeded simulation, not a secret
        rule = rng.choice(sorted(danish.BAD_TITLES))
        return rng.choice(danish.BAD_TITLES[rule]), ("bad_title",)

    def party_for(
        self, engagement: Engagement, *, record: str, wire_kind: str
    ) -> tuple[dict | None, tuple[str, ...]]:
        if engagement.cvr:
            return {"cvr": engagement.cvr}, ()
        if self.has_fault("cpr_missing", wire_kind, record):
            return None, ("cpr_missing",)
        return {"cpr": engagement.citizen.cpr}, ()

    def letter_parties(
        self, engagement: Engagement, *, document_type: str, record: str
    ) -> tuple[dict | None, dict | None, tuple[str, ...]]:
        """(sender, recipient, faults) of a letter: the citizen (or company) sent an
        incoming letter and receives an outgoing one; other documents have neither. The
        fault ``party_missing`` leaves the party out (seed 002: physical post journalised
        without a sender)."""
        if document_type not in ("Brev, indgaaende", "Brev, udgaaende"):
            return None, None, ()
        if self.has_fault("party_missing", "document", record):
            return None, None, ("party_missing",)
        if engagement.cvr:
            party = {"cvr": engagement.cvr}
        else:
            party = {"cpr": engagement.citizen.cpr, "name": engagement.citizen.name}
        if document_type == "Brev, indgaaende":
            return party, None, ()
        return None, party, ()

    def case_parties(self, engagement: Engagement) -> dict:
        """A case's further parties (issue 18), on some cases and derived from the engagement
        itself (no random draw, so every other simulated record stays as it was): another
        citizen as a secondary party (a spouse, a co-applicant), a company receiving the
        benefit (a granted case paid to a landlord or provider), a municipality of residence
        other than the owner's. None of them sees the case."""
        if engagement.cvr:
            return {}
        extra: dict = {}
        citizens = self.world.citizens
        other = citizens[(engagement.number * 7) % len(citizens)] if citizens else None
        if engagement.number % 6 == 1 and other and other.cpr != engagement.citizen.cpr:
            extra["secondary_parties"] = [{"cpr": other.cpr, "name": other.name}]
        if engagement.number % 9 == 4 and engagement.granted:
            extra["benefit_recipient"] = {"cvr": "29189846", "name": "Boligselskabet Test"}
        if engagement.number % 10 == 3:
            extra["residence_municipality"] = "147" if self.municipality == "101" else "101"
        return extra

    def caseworker(self, engagement: Engagement) -> str:
        return danish.CASEWORKERS[engagement.number % len(danish.CASEWORKERS)]

    @property
    def municipality_name(self) -> str:
        return self.world.municipality_name


def sensitivity_of(kind: Kind) -> str:
    return str(kind.sensitivity or Sensitivity.CONFIDENTIAL)


def progress_versions(
    engagement: Engagement, *, unclosed: bool
) -> list[tuple[datetime.datetime, str, list[dict]]]:
    """(moment, status, progress history) for each status change of a case.

    SF1470 Fremdrift: each period is [from, to), the last one open-ended. With
    ``unclosed`` the system closes the case (its own status says so) without
    the Afsluttet period: the fault Fredensborg and Odense found ("Lukning af
    sager", seed 002).
    """
    steps = [
        (engagement.opened, "Opstaaet"),
        (engagement.informed, "Oplyst"),
        (engagement.decided, "Afgjort"),
        (engagement.closed, "Afsluttet"),
    ]
    steps = [(moment, status) for moment, status in steps if moment is not None]
    result = []
    for n, (moment, status) in enumerate(steps):
        shown = steps[: n + 1]
        if unclosed and status == "Afsluttet":
            shown = steps[:n]
        history = []
        for i, (start, name) in enumerate(shown):
            period = {"status": name, "from": iso(start)}
            if i + 1 < len(shown):
                period["to"] = iso(shown[i + 1][0])
            history.append(period)
        result.append((moment, status, history))
    return result


def engagement_kind(key: str) -> Kind:
    return KINDS[key]


# What a simulated wait asks of the citizen and by when (issue 14): derived from the wait
# itself (no random draw), so every other simulated record stays as it was.
WAIT_DUE_DAYS = 14


def wait_details(kind: Kind, status: str, awaiting: datetime.datetime) -> dict:
    """The wire format's ``awaiting_party_due`` and ``awaiting_party_reason`` for a wait
    that began at ``awaiting``: before the decision the citizen sends information, after
    it (a follow-up) they answer a summons."""
    if status in ("Opstaaet", "Oplyst"):
        reason = f"Send de oplysninger til sagen om {kind.subject}, som kommunen har bedt om"
    else:
        reason = f"Svar på indkaldelsen til samtale om {kind.subject}"
    due = timezone.localtime(awaiting).date() + datetime.timedelta(days=WAIT_DUE_DAYS)
    return {"awaiting_party_due": due.isoformat(), "awaiting_party_reason": reason}


def case_versions(
    engagement: Engagement, *, unclosed: bool
) -> list[tuple[datetime.datetime, str, list[dict], datetime.datetime | None]]:
    """(moment, status, progress history, awaiting since) for each change of a case.

    The status changes of ``progress_versions`` plus a version where a wait for
    the citizen begins or ends (``Engagement.waits``); ``awaiting since`` is the
    wire format's ``awaiting_party_since`` at that moment (None: not waiting).
    """
    statuses = {
        moment: (status, history)
        for moment, status, history in progress_versions(engagement, unclosed=unclosed)
    }
    boundaries = {moment for wait in engagement.waits for moment in wait if moment is not None}
    result = []
    current = None
    for moment in sorted(statuses.keys() | boundaries):
        current = statuses.get(moment, current)
        if current is None:  # a wait before the case began: not generated, never shown
            continue
        status, history = current
        result.append((moment, status, history, engagement.awaiting_at(moment)))
    return result
