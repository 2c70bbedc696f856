"""The project's URLs plus one view that fails, for the 500 page test."""

from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def broken(request):
    raise RuntimeError("a deliberate failure for the 500 page test")


urlpatterns = [path("fejl-test/", broken), *project_urlpatterns]
