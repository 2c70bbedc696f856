"""Adapters from each product's wire format to the index wire format."""

from indexes.feeds.adapters.base import Adapter, Delivery, Page, PageUnreadable
from indexes.feeds.adapters.fasit import FasitAdapter
from indexes.feeds.adapters.nexus import NexusAdapter
from indexes.feeds.adapters.payments import PaymentsAdapter
from indexes.feeds.adapters.sbsys import SbsysAdapter

ADAPTERS: dict[str, Adapter] = {
    adapter.key: adapter
    for adapter in (FasitAdapter(), SbsysAdapter(), NexusAdapter(), PaymentsAdapter())
}
# The adapter a product speaks unless its feed says otherwise.
DEFAULT_ADAPTER = {adapter.product: adapter.key for adapter in ADAPTERS.values()}


def adapter_get(key: str) -> Adapter:
    try:
        return ADAPTERS[key]
    except KeyError:
        raise ValueError(f"no adapter {key!r}") from None


__all__ = [
    "ADAPTERS",
    "DEFAULT_ADAPTER",
    "Adapter",
    "Delivery",
    "Page",
    "PageUnreadable",
    "adapter_get",
]
