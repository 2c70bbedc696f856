"""Middleware of the whole project (every app's URLs)."""

from urllib.parse import unquote

from django.http import HttpResponseBadRequest
from django.template.loader import render_to_string

from indexes.api.problems import problem_http_response

API_PREFIX = "/api/"


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
