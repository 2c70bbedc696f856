"""Borgerblikket's admin: the sheets, the scoped index admins and the report views."""

from borgerblikket.admin import (  # noqa: F401 - registers the admins
    indexes,
    kle_releases,
    retention,
    sheets,
)
from borgerblikket.admin.scoping import MunicipalityScopedAdminMixin, scope_queryset

__all__ = ["MunicipalityScopedAdminMixin", "scope_queryset"]
