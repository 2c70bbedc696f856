"""Every admin of the site checks the permission before it looks an object up.

Django's ``ModelAdmin.history_view`` looks the object up first: to a staff user
without any right on a model it answers "does not exist" (a redirect) for an id
that does not exist and 403 for one that does, so the user can tell which ids
exist (users, memberships, feeds, ...). The change, delete and password views
check first already. ``admin_site_harden`` re-registers each admin with the
check in front, as ``borgerblikket.admin.indexes`` does for the scope.
Tested in tests/security/test_authz_matrix.py.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied


class PermissionBeforeLookupMixin:
    """History only for a user who may view or change the model at all."""

    def history_view(self, request, object_id, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return super().history_view(request, object_id, extra_context)


def admin_site_harden(site: admin.AdminSite = admin.site) -> None:
    """Put ``PermissionBeforeLookupMixin`` in front of every admin registered on ``site``."""
    for model, model_admin in list(site._registry.items()):
        base = type(model_admin)
        if issubclass(base, PermissionBeforeLookupMixin):
            continue
        hardened = type(
            base.__name__, (PermissionBeforeLookupMixin, base), {"__module__": base.__module__}
        )
        site.unregister(model)
        site.register(model, hardened)
