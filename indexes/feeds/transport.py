"""Fetching one page of a feed over HTTP, from the address the feed was registered with.

Real source systems and the stand-ins of development and tests (``simulators/``,
served on loopback) are fetched alike: the product never runs a source system
in-process.

Transient trouble (the system does not answer, times out, or says 5xx) raises
``FeedUnavailable``: the poll stops and the next one retries from the same
cursor. A page the system refuses (4xx) raises ``PageUnreadable``.
"""

import urllib.error
import urllib.request
from urllib.parse import urlencode, urlsplit

from indexes.feeds.adapters import Adapter
from indexes.feeds.adapters.base import PageUnreadable
from indexes.models import SourceFeed


class FeedUnavailable(Exception):
    """The source system could not be reached or failed; try again later."""


def feed_url(*, feed: SourceFeed, adapter: Adapter, params: dict[str, str]) -> str:
    base = feed.base_url.rstrip("/")
    return f"{base}/{feed.source_system.municipality_id}/{adapter.path}?{urlencode(params)}"


def page_fetch(*, feed: SourceFeed, adapter: Adapter, params: dict[str, str]) -> bytes:
    """The raw page the source system serves for ``params``."""
    if not feed.base_url:
        raise PageUnreadable("Feeden har ingen adresse (base_url)")
    return _http_get(feed_url(feed=feed, adapter=adapter, params=params), feed.timeout_seconds)


def _http_get(url: str, timeout: float) -> bytes:
    if urlsplit(url).scheme not in ("http", "https"):
        raise PageUnreadable("Feedens adresse skal være http eller https")
    request = urllib.request.Request(url, headers={"Accept": "*/*"})  # noqa: S310 - scheme checked
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.read()
    except urllib.error.HTTPError as exc:
        if exc.code >= 500:
            raise FeedUnavailable(f"Fagsystemet svarede {exc.code}") from None
        raise PageUnreadable(f"Fagsystemet afviste forespørgslen ({exc.code})") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FeedUnavailable(f"Fagsystemet svarer ikke ({type(reason).__name__})") from None
