from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BorgerblikketConfig(AppConfig):
    name = "borgerblikket"
    verbose_name = _("Borgerblikket")
