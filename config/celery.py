"""The Celery application; tasks live in each app's tasks.py.

https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html
"""

import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("overblik")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Scheduled ingestion keeps its tasks beside its services (indexes/feeds/tasks.py).
app.autodiscover_tasks(["indexes.feeds"])


@setup_logging.connect
def _use_django_logging(**kwargs) -> None:
    """Let workers log through settings.LOGGING, whose filter masks CPR numbers.

    Without this Celery installs its own root handlers, which bypass the filter.
    """
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
