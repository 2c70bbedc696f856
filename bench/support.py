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


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now (the kernel picks it)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def flags_add(parser, *, database: str, port: bool = True) -> None:
    """``--database-url`` (default: ``DATABASE_URL``, else the bench's own ``database``) and,
    for a bench that starts a server, ``--port`` (default 0: a free port)."""
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{database}"),
        help="the bench's database (created when missing); default DATABASE_URL or %(default)s",
    )
    if port:
        parser.add_argument(
            "--port", type=int, default=0, help="the server's loopback port (0: a free one)"
        )


def flags_apply(args) -> int | None:
    """Point Django (and the servers the bench starts) at ``--database-url``; the port to
    use (``--port``, or a free one), or ``None`` when the bench starts no server.

    Call before ``django.setup()``: settings read ``DATABASE_URL`` once.
    """
    os.environ["DATABASE_URL"] = args.database_url
    if not hasattr(args, "port"):
        return None
    return args.port or free_port()
