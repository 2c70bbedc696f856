"""``?dry_run=true`` on every write: the answer the write would give, and nothing written.

The query parameter is read by ``indexes.api.idempotency.idempotent`` (which wraps
every write view) before anything else: ``true`` or ``false``, anything else is a
400 problem naming ``dry_run``. A dry run runs the whole view in
``indexes.services.ingestion.dry_run.nothing_written`` (a read-only transaction that is
rolled back) and calls the services' dry-run twins, so the outcomes and problem
documents are the real write's. docs/api.md, "Dry run".
"""

from urllib.parse import unquote_plus

from drf_spectacular.utils import OpenApiParameter

from indexes.api.problems import ProblemError

PARAMETER = "dry_run"
# Answer header of a dry run (its body says ``"dry_run": true`` as well).
HEADER = "Dry-Run"
_VALUES = {"true": True, "false": False}

DRY_RUN = OpenApiParameter(
    PARAMETER,
    {"type": "boolean", "default": False},
    OpenApiParameter.QUERY,
    description="true: answer what this write would do (the same outcomes and problems) "
    "and write nothing: no record, history, inbox batch or Idempotency-Key. The answer "
    "is 200 with `dry_run: true` and the header `Dry-Run: true`.",
)


def dry_run_requested(request) -> bool:
    """Whether ``request`` asks for a dry run; a 400 problem naming ``dry_run`` if unclear."""
    values = request.query_params.getlist(PARAMETER)
    if not values:
        return False
    if len(values) > 1 or values[0] not in _VALUES:
        raise ProblemError(
            status_code=400,
            detail="dry_run er ugyldig.",
            errors=[
                # Not in the body, so no pointer (as Idempotency-Key's own problem).
                {
                    "pointer": "",
                    "code": "invalid_dry_run",
                    "message": "dry_run must be given once, as true or false.",
                }
            ],
        )
    return _VALUES[values[0]]


def full_path_without(request) -> str:
    """``request.get_full_path()`` as it reads without ``dry_run`` (the real write's).

    A dry run with an ``Idempotency-Key`` replays the answer stored for the real request
    with that key, so it is fingerprinted as that request.
    """
    path, _, query = request.get_full_path().partition("?")
    kept = [part for part in query.split("&") if unquote_plus(part.partition("=")[0]) != PARAMETER]
    kept = [part for part in kept if part]
    return f"{path}?{'&'.join(kept)}" if kept else path
