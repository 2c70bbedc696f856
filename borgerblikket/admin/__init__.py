"""Borgerblikket's admin, all in this package.

- ``sheets``, ``indexes``, ``kle_releases``: the model admins (registered on import);
- ``scoping``: what a municipal admin may see; ``hardening``: the permission check
  before every lookup, on every admin of the site;
- ``views`` and ``urls``: the admin-only pages (preview as citizen, data quality,
  roll-out), mounted under /admin/borgerblikket/ by config/urls.py.
"""

from borgerblikket.admin import indexes, kle_releases, sheets  # noqa: F401 - registers the admins
from borgerblikket.admin.scoping import MunicipalityScopedAdminMixin, scope_queryset

__all__ = ["MunicipalityScopedAdminMixin", "scope_queryset"]
