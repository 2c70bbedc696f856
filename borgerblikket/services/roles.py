"""Keeping the role groups as ``borgerblikket.roles`` defines them."""

from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from borgerblikket.roles import ROLE_PERMISSIONS


@transaction.atomic
def roles_sync(*, apps=None, using: str = "default") -> dict[str, int]:
    """Create or update each role's group with exactly its permissions; returns the counts.

    Called after every ``migrate`` (``post_migrate``). Django creates permissions after the
    last migration, app by app, so they are created here first for every installed app.
    """
    from django.apps import apps as global_apps

    for app_config in (apps or global_apps).get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    counts = {}
    for name, perms in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.using(using).get_or_create(name=name)
        wanted = []
        for perm in sorted(perms):
            app_label, codename = perm.split(".")
            permission = (
                Permission.objects.using(using)
                .filter(content_type__app_label=app_label, codename=codename)
                .first()
            )
            if permission is None:
                raise LookupError(f"role '{name}': no permission {perm}")
            wanted.append(permission)
        group.permissions.set(wanted)
        counts[name] = len(wanted)
    return counts
