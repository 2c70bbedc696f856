"""Fixtures of the citizen portal: the mock MitID broker as a real subprocess.

The same launcher as `make run` (``python -m simulators.mitid``) runs on a
free loopback port from 8015 up; its log goes to test-artifacts/ where the CPR
log guard reads it too. Tests log in through the real OpenID Connect flow.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = ROOT / "test-artifacts"


def free_port(start: int = 8015, attempts: int = 200) -> int:
    """The first port from ``start`` that nothing listens on (loopback only)."""
    for port in range(start, start + attempts):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {start}..{start + attempts}")


class MockProvider:
    """``python -m simulators.mitid`` in a subprocess, stopped at the end."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = ARTIFACTS / f"mock-oidc-{port}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        env = os.environ | {"DJANGO_SETTINGS_MODULE": "config.settings.test"}
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "simulators.mitid",
                "--port",
                str(self.port),
                "--exit-with-parent",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mock OIDC provider exited; see {self.log_path}")
            try:
                if requests.get(f"{self.url}/.well-known/openid-configuration", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError(f"mock OIDC provider did not answer in {timeout}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def mock_oidc():
    """The running mock broker's base URL."""
    provider = MockProvider(free_port())
    provider.start()
    yield provider.url
    provider.stop()


def point_at_mock(settings, url: str) -> None:
    """Point the portal's OIDC settings at the mock broker at ``url``."""
    settings.OVERBLIK_MOCK_OIDC_URL = url
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{url}/oauth2/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{url}/oauth2/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{url}/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{url}/jwks"
    settings.OIDC_OP_LOGOUT_ENDPOINT = f"{url}/oauth2/end_session"
    settings.OIDC_OP_ISSUER = url
    settings.OIDC_RP_CLIENT_ID = "overblik-tests"
    settings.OIDC_RP_CLIENT_SECRET = "tests-only-secret"


@pytest.fixture
def oidc_settings(settings, mock_oidc):
    point_at_mock(settings, mock_oidc)
    return settings


def oidc_login(client, *, sub: str, next_url: str = ""):
    """Log the Django test client in through the mock broker as the demo citizen ``sub``.

    Returns the portal's answer to the broker's redirect (the callback).
    """
    start = client.get("/oidc/authenticate/" + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302, start
    answer = requests.post(start["Location"], data={"sub": sub}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:500]
    back = urlsplit(answer.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


@pytest.fixture
def citizen_client(client, oidc_settings, db):
    """A test client logged in as the demo citizen Kim Borgersen."""
    response = oidc_login(client, sub="demo-kim")
    assert response.status_code == 302, response
    return client
