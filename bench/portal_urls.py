"""The production URLs plus one empty view, for the portal benchmarks only (never deployed).

``/bench/empty/`` runs the whole middleware stack (session, user, the citizen's
sliding session, security headers) and returns an empty body: the request
overhead every portal page pays before its own queries and template.
``ServerTimingMiddleware`` (bench/portal_settings.py puts it first) adds
``Server-Timing: app;dur=…, cpu;dur=…``: the worker's wall time for the request
and the CPU time its thread used (which does not count waiting for a core that
other processes hold, nor waiting for PostgreSQL).
"""

import time

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as production_urlpatterns


class ServerTimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        wall, cpu = time.perf_counter(), time.thread_time()
        response = self.get_response(request)
        wall = (time.perf_counter() - wall) * 1000
        cpu = (time.thread_time() - cpu) * 1000
        response.headers["Server-Timing"] = f"app;dur={wall:.2f}, cpu;dur={cpu:.2f}"
        return response


def empty(request):
    """No query of its own, no template: what Django costs per request here."""
    return HttpResponse(b"", content_type="text/plain")


urlpatterns = [path("bench/empty/", empty, name="bench-empty"), *production_urlpatterns]
