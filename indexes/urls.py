"""URLs of the index API v1 (mounted at /api/v1/ by config/urls.py)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from indexes.api.batches import BatchCreateApi, BatchDetailApi
from indexes.api.events import EventListApi
from indexes.api.kombit import Sf1470ImportApi, Sf1470RemoveApi, YiImportApi
from indexes.api.records import DETAIL_VIEWS, LIST_VIEWS


class ApiDocsView(SpectacularRedocView):
    """Redoc from our own static files (drf-spectacular-sidecar), open to anyone.

    The page keeps Django's own (anonymous or session) user: the site's
    template context processors expect one, not DRF's ``UNAUTHENTICATED_USER``
    (None).
    """

    template_name = "indexes/api_docs.html"
    # Redoc styles itself with inline <style> and searches in a blob: worker;
    # scripts stay same-origin only.
    content_security_policy = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )

    def perform_authentication(self, request):
        request.user = request._request.user

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = self.content_security_policy
        return response


app_name = "indexes"

urlpatterns = [
    path("batches", BatchCreateApi.as_view(), name="batch-create"),
    path("batches/<uuid:batch_id>", BatchDetailApi.as_view(), name="batch-detail"),
    path("sf1470/v6/ImporterSagDokumentIndeks", Sf1470ImportApi.as_view(), name="sf1470-import"),
    path("sf1470/v6/FjernSagDokumentIndeks", Sf1470RemoveApi.as_view(), name="sf1470-remove"),
    path("yi/v6/ImporterYdelseIndeks", YiImportApi.as_view(), name="yi-import"),
    path("events", EventListApi.as_view(), name="events"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", ApiDocsView.as_view(url_name="indexes:schema"), name="docs"),
]
for segment, view in LIST_VIEWS.items():
    urlpatterns.append(path(segment, view.as_view(), name=f"{segment}-list"))
for segment, view in DETAIL_VIEWS.items():
    # path: external ids are the source system's own and may contain "/".
    urlpatterns.append(
        path(f"{segment}/<path:external_id>", view.as_view(), name=f"{segment}-detail")
    )
