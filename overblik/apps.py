from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OverblikConfig(AppConfig):
    name = "overblik"
    verbose_name = _("Mit Overblik")
