"""Borgerblikket's endpoints of the index API v1 (mounted at /api/v1/ beside indexes.urls)."""

from django.urls import path

from borgerblikket.apis import ConformanceApi

app_name = "borgerblikket_api"
urlpatterns = [path("conformance", ConformanceApi.as_view(), name="conformance")]
