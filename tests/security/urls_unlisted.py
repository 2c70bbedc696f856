"""The site's URLs plus one nobody put in the authorisation matrix (test_authz_matrix.py)."""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as site_urlpatterns


def new_page(request, pk: int):
    return HttpResponse(f"record {pk}")


urlpatterns = [*site_urlpatterns, path("ny-side/<int:pk>/", new_page, name="new-page")]
