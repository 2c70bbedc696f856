from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _roles_sync(sender, using="default", **kwargs):
    from borgerblikket.services.roles import roles_sync

    roles_sync(using=using)


class BorgerblikketConfig(AppConfig):
    name = "borgerblikket"
    verbose_name = _("Borgerblikket")

    def ready(self):
        # The role groups and their permissions (borgerblikket/roles.py, docs/roles.md).
        post_migrate.connect(_roles_sync, sender=self, dispatch_uid="borgerblikket-roles")
