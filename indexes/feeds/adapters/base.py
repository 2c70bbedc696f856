"""The adapter contract: from a source system's page to index wire-format records.

An adapter knows one product's wire format: how to ask for the page after a
cursor (``request_params``) and how to read a page (``page_parse``) into
deliveries in the index wire format (docs/api.md, the BRIEF's contract) — the
same records the REST API accepts, so both entry points share one ingestion path.
"""

from dataclasses import dataclass, field

from config.logging import redact_cpr
from indexes.services.errors import Problem


class PageUnreadable(Exception):
    """The page as a whole cannot be read; nothing of it is applied, the cursor stays.

    The message names the problem and never contains a CPR number.
    """


@dataclass(frozen=True)
class Delivery:
    """One record of a page: its kind, id and wire payload, or why it could not be mapped."""

    kind: str
    external_id: str
    payload: dict | None
    problems: tuple[Problem, ...] = field(default=())


@dataclass(frozen=True)
class Page:
    deliveries: list[Delivery]
    next_cursor: str  # where the next poll starts; stored only once the page is applied
    has_more: bool


class Adapter:
    """Base class of the four adapters; see each module for its product's habits."""

    key: str = ""
    product: str = ""
    path: str = ""  # below http://host:port/<municipality>/
    label: str = ""

    def request_params(self, *, cursor: str, limit: int) -> dict[str, str]:
        raise NotImplementedError

    def page_parse(self, *, body: bytes, cursor: str, municipality: str, limit: int) -> Page:
        raise NotImplementedError


def unmappable(*, kind: str, external_id: str, pointer: str, detail: str) -> Delivery:
    """A record the adapter cannot translate: rejected with the reason, never applied."""
    return Delivery(
        kind=kind,
        external_id=external_id,
        payload=None,
        problems=(
            Problem(pointer, "unmappable", redact_cpr(f"Kan ikke oversætte feltet: {detail}")),
        ),
    )
