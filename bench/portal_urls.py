"""The production URLs plus one empty view, for the portal benchmarks only (never deployed).

``/bench/empty/`` runs the whole middleware stack (session, user, the citizen's
sliding session, security headers) and returns an empty body: the request
overhead every portal page pays before its own queries and template.
"""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as production_urlpatterns


def empty(request):
    """No query of its own, no template: what Django costs per request here."""
    return HttpResponse(b"", content_type="text/plain")


urlpatterns = [path("bench/empty/", empty, name="bench-empty"), *production_urlpatterns]
