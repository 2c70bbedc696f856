"""Middleware of the whole project (every app's URLs): malformed and oversized requests.

Both answer before any view, and before the body is read, so no view has to defend
itself against them.
"""

from urllib.parse import unquote

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string

from config.cpr_shape import cpr_shape_in, cpr_shapes_redact
from indexes.api.problems import problem_http_response
from indexes.middleware import API_PREFIX


class CprFreePathMiddleware:
    """A CPR-shaped number in the URL's path is ``[CPR]`` in ``request.path``.

    Django logs every 4xx/5xx answer with ``request.path`` ("Not Found: /api/v1/cases/
    0101701234", ``django.request``), and builds absolute URLs from it. The number must
    never reach a log line, not even one a filter would redact later (tests/plugins/
    cpr_log_guard.py). Routing reads ``path_info``, which stays as it was, so the view
    still sees the id and refuses it by name (an external id never holds a CPR number,
    ``indexes.payloads.ExternalIdField``). Outermost, so every later log line has it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if cpr_shape_in(request.path):
            request.path = cpr_shapes_redact(request.path)
        return self.get_response(request)


def _has_nul(request) -> bool:
    # The server has decoded the path already; the query is decoded here (%00 and a raw NUL).
    query = request.META.get("QUERY_STRING", "")
    return "\x00" in request.path_info or "\x00" in unquote(query)


class NulByteMiddleware:
    """A URL with a NUL byte (``%00``) is a malformed request: 400 before any view sees it.

    PostgreSQL refuses NUL in text, so a NUL that reached a lookup or filter was a 500
    (an id, an admin object id, a list filter, the autocomplete term). No URL of the
    project can hold one, so one place refuses them all (tests/security/test_nul_bytes.py).
    The answer never echoes the URL: the API's is a problem, everyone else's the
    portal's own 400 page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _has_nul(request):
            return self.get_response(request)
        if request.path_info.startswith(API_PREFIX):
            return problem_http_response(
                status_code=400, detail="Adressen (URL'en) indeholder et NUL-tegn."
            )
        # Rendered without the request: the page must not repeat the path (language form).
        return HttpResponseBadRequest(render_to_string("400.html"))


class RequestBodyLimitMiddleware:
    """A cap on request bodies outside the index API, applied before the body is read.

    Django reads a request body only up to its declared ``Content-Length``
    (``django.core.handlers.wsgi.LimitedStream``), so a body declared over the cap is
    refused here, from the headers, and none of it is read: not by the multipart parser
    (which would stream file parts to disk before any view or CSRF check runs), not by a
    view. The API (``/api/``) has its own larger limit and problem documents
    (``indexes.middleware.ApiProblemMiddleware``). The proxy in front enforces the same
    caps per path (docker-compose.yml, docs/security.md).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            limit = settings.OVERBLIK_MAX_BODY_BYTES
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0  # Django then reads no body at all
            if length > limit:
                return HttpResponse(
                    f"Forespørgslen er for stor: {length} bytes; grænsen er {limit} bytes. "
                    "Et konfigurationsark må højst fylde 2 MB.\n",
                    status=413,
                    content_type="text/plain; charset=utf-8",
                )
        return self.get_response(request)
