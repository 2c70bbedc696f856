from django.apps import AppConfig


class SimulatorsConfig(AppConfig):
    """Stand-ins for other organisations' systems; local and test settings only."""

    name = "simulators"
    verbose_name = "Stand-ins (lokal udvikling og test)"
