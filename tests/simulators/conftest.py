"""Fixtures of the stand-ins' tests: the feed tests' KLE, clock and simulated feeds."""

from tests.feeds.conftest import feed_make, kle, now  # noqa: F401 - fixtures
