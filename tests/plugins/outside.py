"""The outside world of notifications: the mail server and the SMS gateway stand-ins.

The same launchers as `make run` (``python -m simulators.mail`` / ``simulators.sms``)
run as subprocesses on free loopback ports for the whole session; the settings and
the environment (for Celery workers started later) point at them. A test may
``stop()`` and ``start()`` one (the server down, then back).
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.plugins.portal import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = ROOT / "test-artifacts"


class StandIn:
    def __init__(self, name: str, args: list[str], http_url: str, env: dict | None = None):
        self.name = name
        self.args = args
        self.http_url = http_url
        self.env = env or {}
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20.0) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        log = (ARTIFACTS / f"{self.name}.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", *self.args],
            cwd=ROOT,
            env=os.environ | self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see test-artifacts/{self.name}.log")
            try:
                requests.get(f"{self.http_url}/messages", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer in {timeout}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def messages(self) -> list[dict]:
        return requests.get(f"{self.http_url}/messages", timeout=5).json()["messages"]

    def clear(self) -> None:
        requests.delete(f"{self.http_url}/messages", timeout=5)


def _point(name: str, value) -> None:
    setattr(settings, name, value)


@pytest.fixture(scope="session")
def mail_server():
    """The local SMTP server (aiosmtpd) with its page; settings and env point at it."""
    smtp_port, http_port = free_port(9525), free_port(9625)
    server = StandIn(
        "mail-stand-in",
        [
            "simulators.mail",
            "--smtp-port",
            str(smtp_port),
            "--http-port",
            str(http_port),
        ],
        f"http://127.0.0.1:{http_port}",
    )
    server.start()
    server.smtp_port = smtp_port
    before = settings.EMAIL_HOST, settings.EMAIL_PORT, os.environ.get("EMAIL_URL")
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_port
    os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{smtp_port}"
    yield server
    server.stop()
    settings.EMAIL_HOST, settings.EMAIL_PORT = before[0], before[1]
    if before[2] is None:
        os.environ.pop("EMAIL_URL", None)
    else:
        os.environ["EMAIL_URL"] = before[2]


@pytest.fixture(scope="session")
def sms_gateway():
    """The local SMS gateway stand-in; settings and env point at it."""
    port = free_port(9725)
    gateway = StandIn(
        "sms-stand-in", ["simulators.sms", "--port", str(port)], f"http://127.0.0.1:{port}"
    )
    gateway.start()
    before = settings.OVERBLIK_SMS_URL, os.environ.get("OVERBLIK_SMS_URL")
    settings.OVERBLIK_SMS_URL = f"http://127.0.0.1:{port}/sms"
    os.environ["OVERBLIK_SMS_URL"] = settings.OVERBLIK_SMS_URL
    yield gateway
    gateway.stop()
    settings.OVERBLIK_SMS_URL = before[0]
    if before[1] is None:
        os.environ.pop("OVERBLIK_SMS_URL", None)
    else:
        os.environ["OVERBLIK_SMS_URL"] = before[1]


@pytest.fixture
def outside(mail_server, sms_gateway, settings):
    """Both stand-ins, emptied for this test; Django's SMTP backend sends to the mail one
    (pytest-django's in-memory backend elsewhere)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", mail_server.smtp_port
    mail_server.clear()
    sms_gateway.clear()
    return mail_server, sms_gateway
