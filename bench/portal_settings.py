"""Settings for the portal benchmarks only: the local settings plus bench/portal_urls.py.

Never used by the application: ``bench/portal.py``, ``bench/scale.py`` and
``bench/loadtest.py`` start gunicorn with ``DJANGO_SETTINGS_MODULE=bench.portal_settings``
so the same server also answers the empty view the portal is compared with, and
every response carries a ``Server-Timing`` header (wall and CPU time in the worker).
"""

from config.settings.local import *  # noqa: F403
from config.settings.local import MIDDLEWARE

DEBUG = False
ROOT_URLCONF = "bench.portal_urls"
# Outermost, so it times the whole middleware stack and the view.
MIDDLEWARE = ["bench.portal_urls.ServerTimingMiddleware", *MIDDLEWARE]
