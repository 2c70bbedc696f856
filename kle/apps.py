from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KleConfig(AppConfig):
    name = "kle"
    verbose_name = _("KLE-emneplan")
