"""Who may see whose data: the clients of two outside services (issue 15).

- **Digital Fuldmagt** (powers of attorney): ``POST {OVERBLIK_FULDMAGT_URL}/fuldmagter``
  with ``{"holder_cpr": "…"}`` answers ``{"powers": [{"principal_cpr", "principal_name",
  "relation", "scope": ["*"] or KLE main groups/groups ("27", "27.36"), "valid_from",
  "valid_to", "revoked_at"}]}``.
- **CPR relations** (parents with custody): ``POST {OVERBLIK_CPR_RELATIONS_URL}/boern``
  with ``{"parent_cpr": "…"}`` answers ``{"children": [{"cpr", "name", "birth_date",
  "custody"}]}``.

The CPR number always travels in the POST body, never in a URL (URLs end up in
access logs and proxies). Answers are cached for ``OVERBLIK_RELATIONS_CACHE_SECONDS``
(≤ 60) under a keyed digest of the CPR number, so a revocation takes effect within
that time. A service that is not configured gives no relations; one that does not
answer or answers nonsense raises ``RelationsUnavailable``; callers then show the
citizen their own data only, with a notice.

This module only *reads* relations; ``borgerblikket.selectors.visibility`` decides
what they let someone see (the one door).
"""

import datetime as dt
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

ALL = "*"  # a scope naming every area


class RelationsUnavailable(Exception):
    """The relation services did not answer usably (never says with which CPR)."""


@dataclass(frozen=True)
class PowerOfAttorney:
    holder_cpr: str
    principal_cpr: str
    principal_name: str
    relation: str  # how the principal calls the holder, e.g. "datter" (may be "")
    scope: tuple[str, ...]  # ("*",) or KLE main groups/groups
    valid_from: dt.date
    valid_to: dt.date | None
    revoked_at: dt.datetime | None

    def in_force(self, *, today: dt.date) -> bool:
        if self.revoked_at is not None:
            return False
        if today < self.valid_from:
            return False
        return self.valid_to is None or today <= self.valid_to


@dataclass(frozen=True)
class Child:
    parent_cpr: str
    cpr: str
    name: str
    birth_date: dt.date
    custody: bool

    def parent_sees(self, *, today: dt.date, age_limit: int) -> bool:
        """Custody and the child younger than ``age_limit`` (access ends on that birthday)."""
        return self.custody and today < birthday(self.birth_date, age_limit)


def birthday(born: dt.date, age: int) -> dt.date:
    """The day one turns ``age`` (29 February: 1 March in other years)."""
    try:
        return born.replace(year=born.year + age)
    except ValueError:
        return dt.date(born.year + age, 3, 1)


def _digest(cpr: str) -> str:
    key = (settings.OVERBLIK_CPR_HMAC_KEY or settings.SECRET_KEY).encode()
    return hmac.new(key, cpr.encode(), hashlib.sha256).hexdigest()[:32]


def _post(base: str, path: str, body: dict) -> dict:
    if not base:
        raise RelationsUnavailable("not configured")
    if not base.startswith(("http://", "https://")):
        raise RelationsUnavailable("not an HTTP address")
    url = base + path
    request = urllib.request.Request(  # noqa: S310 - scheme checked
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    try:
        timeout = settings.OVERBLIK_RELATIONS_TIMEOUT
        with urllib.request.urlopen(request, timeout=timeout) as r:  # noqa: S310
            answer = json.loads(r.read(1_000_000))
    except (OSError, urllib.error.URLError, ValueError) as error:
        # The URL has no CPR number; the body is not logged.
        logger.warning("relations service %s did not answer: %s", url, type(error).__name__)
        raise RelationsUnavailable(type(error).__name__) from None
    if not isinstance(answer, dict):
        raise RelationsUnavailable("not an object")
    return answer


# After a service failed to answer, it is not asked again for this long (seconds): a
# page makes several reads, and each must not wait for the timeout again.
DOWN_SECONDS = 10


def _cached(kind: str, cpr: str, fetch):
    key = f"relations:{kind}:{_digest(cpr)}"
    value = cache.get(key)
    if value is None:
        down = f"relations:down:{kind}"
        if cache.get(down):
            raise RelationsUnavailable("down")
        try:
            value = fetch()
        except RelationsUnavailable:
            cache.set(down, True, min(DOWN_SECONDS, settings.OVERBLIK_RELATIONS_CACHE_SECONDS))
            raise
        cache.set(key, value, settings.OVERBLIK_RELATIONS_CACHE_SECONDS)
    return value


def _date(value) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _datetime(value) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def powers_held_by(*, holder_cpr: str) -> list[PowerOfAttorney]:
    """Every power of attorney the holder has (in force or not); ``RelationsUnavailable``."""

    def fetch():
        return _post(settings.OVERBLIK_FULDMAGT_URL, "/fuldmagter", {"holder_cpr": holder_cpr}).get(
            "powers"
        )

    if not settings.OVERBLIK_FULDMAGT_URL:
        return []  # not configured: nobody holds a power of attorney here
    raw = _cached("powers", holder_cpr, fetch)
    try:
        return [
            PowerOfAttorney(
                holder_cpr=holder_cpr,
                principal_cpr=str(p["principal_cpr"]),
                principal_name=str(p.get("principal_name") or ""),
                relation=str(p.get("relation") or ""),
                scope=tuple(str(s) for s in p["scope"]),
                valid_from=_date(p["valid_from"]),
                valid_to=_date(p.get("valid_to")),
                revoked_at=_datetime(p.get("revoked_at")),
            )
            for p in raw
        ]
    except (KeyError, TypeError, ValueError):
        raise RelationsUnavailable("malformed powers") from None


def children_of(*, parent_cpr: str) -> list[Child]:
    """The parent's children per the CPR relations service; ``RelationsUnavailable``."""

    def fetch():
        return _post(settings.OVERBLIK_CPR_RELATIONS_URL, "/boern", {"parent_cpr": parent_cpr}).get(
            "children"
        )

    if not settings.OVERBLIK_CPR_RELATIONS_URL:
        return []  # not configured: no parent sees a child here
    raw = _cached("children", parent_cpr, fetch)
    try:
        return [
            Child(
                parent_cpr=parent_cpr,
                cpr=str(c["cpr"]),
                name=str(c.get("name") or ""),
                birth_date=_date(c["birth_date"]),
                custody=bool(c.get("custody")),
            )
            for c in raw
        ]
    except (KeyError, TypeError, ValueError):
        raise RelationsUnavailable("malformed children") from None
