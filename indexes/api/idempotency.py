"""``Idempotency-Key`` for PUT, DELETE and bulk POST (stored answer replayed).

The first successful answer to a key is stored in the same transaction as the
work it describes (``IdempotencyKey``), so either both exist or neither. A retry
with the same key and the same request gets that answer again, marked
``Idempotent-Replayed: true``, and changes nothing; the same key with a different
request is refused with a 422 problem. Answers are kept for a day
(``indexes.services.inbox.IDEMPOTENCY_RETENTION``; the sweeper deletes older ones). Two concurrent first attempts: the unique
constraint lets one commit; the other rolls back all its work and replays.
"""

import functools
import hashlib
import json

from django.db import IntegrityError, transaction
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from indexes.api.problems import ProblemError
from indexes.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
_REPLAYED_HEADERS = ("ETag", "Location")
# Request headers that change the meaning of the same body.
_FINGERPRINT_HEADERS = ("If-Match", "Source-Timestamp")


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0" + request.get_full_path().encode())
    for name in _FINGERPRINT_HEADERS:
        digest.update(b"\0" + request.headers.get(name, "").encode())
    digest.update(b"\0" + (request.body or b""))
    return digest.hexdigest()


def _replay(stored: IdempotencyKey, fingerprint: str) -> Response:
    if stored.request_fingerprint != fingerprint:
        raise ProblemError(
            status_code=422,
            problem_type="idempotency-key-reused",
            title="Idempotency-Key reused",
            detail="Idempotency-Key er allerede brugt til en anden forespørgsel. "
            "Brug en ny nøgle til en ny forespørgsel.",
            errors=[
                {
                    "pointer": "",
                    "code": "idempotency_key_reused",
                    "message": f"{HEADER} already used with a different request.",
                }
            ],
        )
    headers = dict(stored.response_headers) | {"Idempotent-Replayed": "true"}
    return Response(
        json.loads(bytes(stored.response_body)), status=stored.response_status, headers=headers
    )


# The header's value as the schema states it: printable ASCII, not only spaces (HTTP
# trims the spaces around a header's value).
KEY_PATTERN = r"^[ -~]*[!-~][ -~]*$"


def idempotent(view_method):
    """Run a write view in one transaction and honour ``Idempotency-Key``."""

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            with transaction.atomic():
                return view_method(self, request, *args, **kwargs)
        # Printable ASCII only (KEY_PATTERN): PostgreSQL text cannot hold a NUL (was a 500),
        # and HTTP carries other characters only as Latin-1 guesses.
        if not key or len(key) > MAX_KEY_LENGTH or not (key.isascii() and key.isprintable()):
            raise ProblemError(
                status_code=422,
                detail=f"{HEADER} skal være 1-{MAX_KEY_LENGTH} synlige tegn.",
                errors=[{"pointer": "", "code": "invalid_idempotency_key", "message": HEADER}],
            )
        source_system = request.user.source_system
        fingerprint = _fingerprint(request)
        stored_keys = IdempotencyKey.objects.filter(source_system=source_system, key=key)
        try:
            with transaction.atomic():
                stored = stored_keys.first()
                if stored is not None:
                    return _replay(stored, fingerprint)
                response = view_method(self, request, *args, **kwargs)
                if 200 <= response.status_code < 300:
                    IdempotencyKey.objects.create(
                        source_system=source_system,
                        key=key,
                        request_fingerprint=fingerprint,
                        response_status=response.status_code,
                        response_headers={
                            name: response[name] for name in _REPLAYED_HEADERS if name in response
                        },
                        response_body=json.dumps(response.data, cls=JSONEncoder).encode(),
                    )
                return response
        except IntegrityError:
            # A concurrent request with the same key committed first; ours rolled back.
            stored = stored_keys.first()
            if stored is None:
                raise
            return _replay(stored, fingerprint)

    return wrapper
