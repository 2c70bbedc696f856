"""Settings for the portal benchmarks only: the local settings plus bench/portal_urls.py.

Never used by the application: ``bench/portal.py``, ``bench/scale.py`` and
``bench/loadtest.py`` start gunicorn with ``DJANGO_SETTINGS_MODULE=bench.portal_settings``
so the same server also answers the empty view the portal is compared with.
"""

from config.settings.local import *  # noqa: F403

DEBUG = False
ROOT_URLCONF = "bench.portal_urls"
