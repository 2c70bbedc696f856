"""Borgerblikket's admin, all in this package.

- ``sheets``, ``indexes``, ``kle_releases``, ``retention``, ``quality``: the model admins (registered on
  import; retention's preview is a view of its audit admin);
- ``scoping``: what a municipal admin may see; ``hardening``: the permission check
  before every lookup, on every admin of the site;
- ``views`` and ``urls``: the admin-only pages (preview as citizen, data quality,
  roll-out), mounted under /admin/borgerblikket/ by config/urls.py.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from borgerblikket.admin import (  # noqa: F401 - registers the admins
    indexes,
    kle_releases,
    quality,
    retention,
    sheets,
)
from borgerblikket.admin.scoping import MunicipalityScopedAdminMixin, scope_queryset

# The admin's own headers, in Danish and English (locale/), not Django's "Django administration".
admin.site.site_header = _("Borgerblikket: administration")
admin.site.site_title = _("Borgerblikket")
admin.site.index_title = _("Forside")

__all__ = ["MunicipalityScopedAdminMixin", "scope_queryset"]
