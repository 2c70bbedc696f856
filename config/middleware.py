"""A cap on request bodies outside the index API, applied before the body is read.

Django reads a request body only up to its declared ``Content-Length``
(``django.core.handlers.wsgi.LimitedStream``), so a body declared over the cap is
refused here, from the headers, and none of it is read: not by the multipart parser
(which would stream file parts to disk before any view or CSRF check runs), not by a
view. The API (``/api/``) has its own larger limit and problem documents
(``indexes.middleware.ApiProblemMiddleware``). The proxy in front enforces the same
caps per path (docker-compose.yml, docs/security.md).
"""

from django.conf import settings
from django.http import HttpResponse

from indexes.middleware import API_PREFIX


class RequestBodyLimitMiddleware:
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
