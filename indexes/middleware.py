"""Guards of the index API (``/api/``) that act before DRF sees the request.

- a body limit answered with ``413 application/problem+json`` before the body
  is read (Django's own ``DATA_UPLOAD_MAX_MEMORY_SIZE`` check would answer 400);
- Django's own 404 (no URL matched) and unhandled errors as problem documents,
  so every answer under ``/api/`` has the same shape;
- a database that does not answer (restarting, connection dropped) as
  ``503`` with ``Retry-After``, not a 500: the request's transaction rolled
  back, and a source system retries it with the same ``Idempotency-Key``.
"""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError

from indexes.api.problems import PROBLEM_CONTENT_TYPE, problem_http_response

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
# Seconds a client is asked to wait when the database does not answer: about
# what a PostgreSQL restart or fail-over takes.
DATABASE_RETRY_AFTER = 5


class ApiProblemMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        limit = settings.INDEXES_API_MAX_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return problem_http_response(
                status_code=413,
                detail=f"Kroppen er {length} bytes; grænsen er {limit} bytes. "
                "Del leverancen i flere batches (højst 1.000 poster pr. batch).",
            )
        if length:
            # Read the body here, within the limit, so DRF and the idempotency
            # fingerprint reuse it instead of tripping DATA_UPLOAD_MAX_MEMORY_SIZE.
            request._body = request.read(limit + 1)
            request._read_started = True
            if len(request._body) > limit:
                return problem_http_response(
                    status_code=413, detail=f"Kroppen overskrider grænsen på {limit} bytes."
                )
        response = self.get_response(request)
        if response.status_code == 404 and not response.get("Content-Type", "").startswith(
            (PROBLEM_CONTENT_TYPE, "application/json")
        ):
            return problem_http_response(status_code=404, detail="Adressen findes ikke.")
        return response

    def process_exception(self, request, exception):
        if not request.path.startswith(API_PREFIX):
            return None
        if isinstance(exception, OperationalError | InterfaceError):
            # The class only: a driver's message may quote the statement's values.
            logger.warning(
                "Database unavailable in %s %s: %s",
                request.method,
                request.path,
                type(exception).__name__,
            )
            response = problem_http_response(
                status_code=503,
                detail="Databasen svarer ikke lige nu. "
                f"Prøv igen om {DATABASE_RETRY_AFTER} sekunder med samme Idempotency-Key.",
            )
            response["Retry-After"] = str(DATABASE_RETRY_AFTER)
            return response
        logger.exception("Unhandled error in %s %s", request.method, request.path)
        return problem_http_response(status_code=500, detail="Der opstod en intern fejl.")
