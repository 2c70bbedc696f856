"""Borgerblikket's admin: the sheets, the scoped index admins and the report views."""

from borgerblikket.admin import indexes, kle_releases, sheets  # noqa: F401 - registers the admins
from borgerblikket.admin.scoping import MunicipalityScopedAdminMixin, scope_queryset

__all__ = ["MunicipalityScopedAdminMixin", "scope_queryset"]
