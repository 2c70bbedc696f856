"""Every test starts in the portal's language (Danish).

A request through LocaleMiddleware activates its language for the thread and leaves it
active after the response; a test that switched to English (``set_language``) then made
the next test's selectors and texts English too — only in some orders ("Case about …"
where "Sag om …" was expected). The suite passes in any order.
"""

import pytest
from django.conf import settings
from django.utils import translation


@pytest.fixture(autouse=True)
def _the_default_language():
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
