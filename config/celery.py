"""The Celery application; tasks live in each app's tasks.py.

https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("overblik")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
