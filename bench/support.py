"""What the benchmarks share: their database, percentiles and the machine's load."""

import os
from urllib.parse import urlparse


def database_ensure(url: str | None = None) -> None:
    """Create the database of ``url`` (default ``DATABASE_URL``) when it is missing."""
    import psycopg

    parts = urlparse(url or os.environ["DATABASE_URL"])
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def load_average() -> str:
    """The 1/5/15-minute load averages, for a run's report."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())
