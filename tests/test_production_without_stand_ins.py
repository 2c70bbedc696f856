"""Production starts without the stand-ins: what ships is the product alone.

What the Dockerfile copies into the image is copied to a folder of its own,
where ``simulators`` cannot be imported at all, and a process on the production
settings starts there: the deploy checks pass, the WSGI application loads with
every URL (and so every view and admin), and a worker's task discovery finds
every task. A product module importing the stand-ins would fail it (the control
below adds one).
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_settings import PRODUCTION_ENV

# Run in the copy: start as gunicorn and a worker would, then report what was loaded.
START = """
import importlib.util, json, os, sys
from pathlib import Path
assert importlib.util.find_spec("simulators") is None, "the stand-ins are importable"
from config.wsgi import application
from django.conf import settings
from django.urls import get_resolver
from config.celery import app
import config
get_resolver().url_patterns  # every URL module, view and admin
app.loader.import_default_modules()  # every app's tasks, as a worker finds them
print(json.dumps({
    "config": str(Path(config.__file__).resolve().parent.parent),
    "apps": settings.INSTALLED_APPS,
    "tasks": sorted(t for t in app.tasks if not t.startswith("celery.")),
    "stand_ins_loaded": [m for m in sys.modules if m.split(".")[0] == "simulators"],
}))
"""


def shipped() -> list[str]:
    """What the Dockerfile copies into the image (its COPY sources)."""
    sources = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        match = re.match(r"COPY\s+(.+)\s+\S+$", line.strip())
        if match:
            sources += match.group(1).split()
    return sources


@pytest.fixture
def image(tmp_path) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    for source in shipped():
        path = ROOT / source
        if path.is_dir():
            shutil.copytree(path, folder / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(path, folder / source)
    return folder


def run(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("DJANGO_", "DATABASE_", "CELERY_", "OVERBLIK_", "SIMULATORS_", "EMAIL_")
        )
        and k != "PYTHONPATH"
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=folder,
        env=env | PRODUCTION_ENV,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_image_holds_the_product_and_no_stand_ins():
    assert {"config", "kle", "indexes", "borgerblikket", "overblik"} <= set(shipped())
    assert not [source for source in shipped() if source.startswith("simulators")]


def test_production_starts_without_the_stand_ins(image):
    check = run(image, "manage.py", "check", "--deploy")
    assert check.returncode == 0, check.stderr
    assert "Unknown command" in run(image, "manage.py", "demo_load").stderr

    started = run(image, "-c", START)

    assert started.returncode == 0, started.stderr
    report = json.loads(started.stdout.strip().splitlines()[-1])
    assert report["config"] == str(image.resolve())  # the copy, not this checkout
    assert "simulators" not in report["apps"]
    assert report["stand_ins_loaded"] == []
    assert {"indexes.sources.feed_poll", "indexes.inbox_batch_process"} <= set(report["tasks"])


# Production settings as loaded in the copy: every value that names a loopback port, and
# how mail and SMS go out.
SETTINGS = """
import json, re
import django
django.setup()
from django.conf import settings

def texts(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from texts(item)
    elif isinstance(value, (list, tuple, set)):
        for item in value:
            yield from texts(item)

names = [n for n in dir(settings) if n.isupper()]
loopback = {
    n: t for n in names for t in texts(getattr(settings, n))
    if re.search(r"(127\\.0\\.0\\.1|localhost):94\\d\\d", t)
}
print(json.dumps({
    "loopback": loopback,
    "email_backend": settings.EMAIL_BACKEND,
    "email_host": [settings.EMAIL_HOST, settings.EMAIL_PORT],
    "sms": [settings.OVERBLIK_SMS_PROVIDER, settings.OVERBLIK_SMS_URL],
}))
"""


def test_production_settings_point_at_no_stand_in(image):
    """Nothing in production's settings defaults to a stand-in's address (the demo's
    ports 9400-9499: the login, the source systems, relations, the mail server and the
    SMS gateway). Unset, mail goes nowhere (Django's dummy backend; the citizens'
    e-mails wait, retried: docs/notifications.md) and no SMS provider is configured."""
    loaded = run(image, "-c", SETTINGS)

    assert loaded.returncode == 0, loaded.stderr
    report = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert report["loopback"] == {}
    assert report["email_backend"] == "django.core.mail.backends.dummy.EmailBackend"
    assert report["sms"] == ["none", ""]


def test_a_product_module_importing_the_stand_ins_would_not_start(image):
    """The control: the same start fails once the product reaches for a stand-in."""
    transport = image / "indexes" / "feeds" / "transport.py"
    transport.write_text(transport.read_text() + "\nimport simulators.systems\n")

    started = run(image, "-c", START)

    assert started.returncode != 0
    assert "No module named 'simulators'" in started.stderr
