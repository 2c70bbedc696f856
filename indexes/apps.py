from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndexesConfig(AppConfig):
    name = "indexes"
    verbose_name = _("Indekser")
