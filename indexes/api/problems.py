"""Errors of the index API as ``application/problem+json`` (RFC 9457).

Every problem carries ``type``, ``title``, ``status``, ``detail`` and, when
fields are at fault, ``errors: [{pointer, code, message}]`` where ``pointer``
is a JSON pointer (RFC 6901) into the request body. Messages never echo a CPR
number: every text passes through the same redaction as the logs.
"""

import json
import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from config.logging import redact_cpr
from indexes.services.errors import Problem, RecordNotFound, RecordRejected

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Problem types are URNs (RFC 9457 §3.1.1 allows any URI); docs/api.md lists them.
TYPE_PREFIX = "urn:overblik:problem:"

_TITLES = {
    400: "Malformed request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
_TYPES = {
    400: "malformed-request",
    401: "not-authenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    412: "precondition-failed",
    413: "body-too-large",
    415: "unsupported-media-type",
    422: "invalid-input",
    429: "too-many-requests",
    500: "internal-error",
    503: "service-unavailable",
}


class ProblemError(exceptions.APIException):
    """An API error with a problem type of its own (raised by views)."""

    def __init__(
        self,
        *,
        status_code: int,
        detail: str,
        problem_type: str | None = None,
        errors: list[dict] | None = None,
        title: str | None = None,
    ):
        super().__init__(detail=detail)
        self.status_code = status_code
        self.problem_type = problem_type
        self.errors = errors or []
        self.title = title


def problem_body(
    *,
    status_code: int,
    detail: str,
    errors: list[dict] | None = None,
    problem_type: str | None = None,
    title: str | None = None,
) -> dict:
    """The problem document for ``status_code`` (redacted of CPR numbers)."""
    body = {
        "type": TYPE_PREFIX + (problem_type or _TYPES.get(status_code, "error")),
        "title": title or _TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": redact_cpr(str(detail)),
    }
    if errors:
        body["errors"] = [
            {
                "pointer": e.get("pointer", ""),
                "code": e.get("code", "invalid"),
                "message": redact_cpr(str(e.get("message", ""))),
            }
            # An XML delivery's problem also names the line of its element.
            | ({"line": e["line"]} if e.get("line") is not None else {})
            for e in errors
        ]
    return body


def problem_http_response(*, status_code: int, detail: str, **kwargs) -> HttpResponse:
    """A plain Django response (for middleware, outside DRF)."""
    body = problem_body(status_code=status_code, detail=detail, **kwargs)
    return HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status_code, content_type=PROBLEM_CONTENT_TYPE
    )


def problems_as_errors(problems: list[Problem], *, prefix: str = "") -> list[dict]:
    """Service ``Problem`` objects as problem ``errors`` entries, pointers under ``prefix``."""
    return [{"pointer": prefix + p.pointer, "code": p.code, "message": p.message} for p in problems]


def _escape(token) -> str:
    # RFC 6901 §3: "~" and "/" inside a reference token are escaped.
    return str(token).replace("~", "~0").replace("/", "~1")


def validation_errors(detail, pointer: str = "") -> list[dict]:
    """Flatten DRF's nested ``ValidationError.detail`` into pointer/code/message entries."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            # DRF reports errors of the whole object under "non_field_errors".
            child = (
                pointer if key in ("non_field_errors", "__all__") else f"{pointer}/{_escape(key)}"
            )
            out.extend(validation_errors(value, child))
        return out
    if isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail | str) for item in detail):
            return [
                {"pointer": pointer, "code": getattr(item, "code", "invalid"), "message": str(item)}
                for item in detail
            ]
        out = []
        for index, value in enumerate(detail):
            if value:  # DRF leaves {} for list items without errors
                out.extend(validation_errors(value, f"{pointer}/{index}"))
        return out
    return [
        {"pointer": pointer, "code": getattr(detail, "code", "invalid"), "message": str(detail)}
    ]


def exception_handler(exc, context) -> Response | None:
    """DRF exception handler: every error of the index API as a problem document."""
    headers = {}
    if isinstance(exc, Http404 | RecordNotFound):
        # Same answer for "not yours" and "does not exist" (no existence leak).
        exc = ProblemError(status_code=404, detail="Posten findes ikke.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RecordRejected):
        exc = ProblemError(
            status_code=422,
            problem_type="invalid-record",
            detail="Posten blev afvist; se errors.",
            errors=problems_as_errors(exc.problems),
        )
    if not isinstance(exc, exceptions.APIException):
        return None

    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(exc.wait)

    status_code = exc.status_code
    errors: list[dict] = []
    problem_type = None
    title = None
    if isinstance(exc, ProblemError):
        detail, errors, problem_type, title = exc.detail, exc.errors, exc.problem_type, exc.title
    elif isinstance(exc, exceptions.ValidationError):
        # Well-formed JSON that breaks the contract is 422, not 400 (RFC 9110 §15.5.21).
        status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
        errors = validation_errors(exc.detail)
        detail = "Forespørgslen er ugyldig; se errors."
    elif isinstance(exc, exceptions.ParseError):
        detail = "Kroppen er ikke gyldig JSON."
        problem_type = "malformed-json"
    else:
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        # A refused key or installation says why (indexes.authentication).
        errors = getattr(exc, "errors", [])

    body = problem_body(
        status_code=status_code,
        detail=str(detail),
        errors=errors,
        problem_type=problem_type,
        title=title,
    )
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
