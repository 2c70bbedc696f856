from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OverblikConfig(AppConfig):
    name = "overblik"
    verbose_name = _("Mit Overblik")

    def ready(self) -> None:
        from borgerblikket.services.retention import retention_purge_register
        from overblik.notifications.retention import notification_messages_purge

        retention_purge_register(notification_messages_purge)
