"""Request bodies outside the API are capped before they are read (issue 12.9).

A 400 MB sheet upload took a worker to 525 MB (the import read the whole file before
its size check), and anyone holding only a CSRF cookie could stream a large multipart
body to disk through ``/admin/login/``. Now every non-API request declaring a body
over ``OVERBLIK_MAX_BODY_BYTES`` is answered 413 before a byte of it is read
(``config/middleware.py``), and the sheet import refuses a file over 2 MB from its size
before reading it. The gunicorn test sends the bodies to the server production runs
and measures the worker's memory.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from borgerblikket.models import SheetImport
from borgerblikket.services.sheet_files import MAX_FILE_BYTES
from tests.borgerblikket import factories as f

pytestmark = [pytest.mark.django_db]

BASE_DIR = Path(settings.BASE_DIR)


def _multipart(size: int, boundary: str = "xyz") -> bytes:
    return (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="big.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + b"a" * size
        + f"\r\n--{boundary}--\r\n".encode()
    )


@pytest.mark.parametrize("url", ["/admin/login/", "/admin/borgerblikket/sheetrow/import/", "/"])
def test_a_body_over_the_cap_is_413_before_it_is_read(client, url):
    body = _multipart(settings.OVERBLIK_MAX_BODY_BYTES + 1)
    response = client.generic("POST", url, body, content_type="multipart/form-data; boundary=xyz")
    assert response.status_code == 413
    assert "for stor" in response.content.decode()


def test_a_body_under_the_cap_reaches_the_view(client):
    response = client.post("/admin/login/", {"username": "x", "password": "y"})
    assert response.status_code == 200  # the login form again, with its error


def test_the_api_keeps_its_own_larger_limit(client):
    """/api/ answers with a problem document at INDEXES_API_MAX_BODY_BYTES, not here."""
    body = b"{" + b" " * (settings.OVERBLIK_MAX_BODY_BYTES + 10) + b"}"
    response = client.generic("POST", "/api/v1/batches", body, content_type="application/json")
    assert response.status_code != 413


@pytest.mark.postgres
def test_a_sheet_over_2_mb_under_the_cap_is_a_form_error(client):
    client.force_login(f.municipal_admin("461", username="odense-admin"))
    content = b"KLE-nr.;Fradato for visning\n" + b"x" * MAX_FILE_BYTES
    response = client.post(
        reverse("admin:borgerblikket_sheetrow_import"),
        {"municipality": "461", "file": SimpleUploadedFile("ark.csv", content)},
    )
    assert response.status_code == 200
    assert "højst fylde 2 MB" in response.context["form"].errors["file"][0]
    assert not SheetImport.objects.exists()


def test_django_upload_limits_are_set():
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 1024 * 1024
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE >= MAX_FILE_BYTES  # a sheet never hits disk
    assert settings.DATA_UPLOAD_MAX_NUMBER_FILES == 1
    assert settings.DATA_UPLOAD_MAX_NUMBER_FIELDS <= 1000
    assert settings.OVERBLIK_MAX_BODY_BYTES < 4 * 1024 * 1024


# --- against gunicorn, as in production -------------------------------------------------------

BODY_BYTES = 200 * 1024 * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn():
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "30",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # The master listens before its worker is forked: wait for an answer.
        deadline = time.monotonic() + 30
        while True:
            try:
                if _send(port, "/admin/login/", 10)[0]:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("gunicorn did not start")
            time.sleep(0.2)
        workers = psutil.Process(process.pid).children()
        assert len(workers) == 1
        yield port, workers[0]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _send(port: int, path: str, size: int) -> tuple[int, int, float]:
    """POST a multipart body of ``size`` bytes in 1 MiB writes; (status, bytes sent, s)."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: multipart/form-data; boundary=xyz\r\n"
        "Cookie: csrftoken=abcdefghijklmnopqrstuvwxyz012345\r\n"
        f"Content-Length: {size}\r\nConnection: close\r\n\r\n"
    ).encode()
    chunk = b"a" * (1024 * 1024)
    sent = 0
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        try:
            while sent < size:
                sock.sendall(chunk[: min(len(chunk), size - sent)])
                sent += min(len(chunk), size - sent)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: the rest was never read
        answer = b""
        try:
            while data := sock.recv(65536):
                answer += data
        except ConnectionResetError:
            pass
    seconds = time.perf_counter() - started
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, sent, seconds


@pytest.mark.parametrize("path", ["/admin/login/", "/admin/borgerblikket/sheetrow/import/"])
def test_gunicorn_refuses_a_200_mb_body_without_reading_it(gunicorn, path):
    port, worker = gunicorn
    # Warm up: the first requests import the URLconf, the admin and the views.
    for _ in range(2):
        assert _send(port, path, 4 * 1024 * 1024)[0] == 413
        _send(port, path, 1024)
    before = worker.memory_info().rss

    status, sent, seconds = _send(port, path, BODY_BYTES)

    grown = worker.memory_info().rss - before
    assert status == 413
    # The refusal comes from the headers: the client got a few socket buffers out at
    # most, and the worker grew by its code paths, not by the body.
    assert sent < BODY_BYTES // 4, f"{sent} bytes sent before the answer"
    assert grown < 30 * 1024 * 1024, f"worker grew by {grown / 1e6:.0f} MB"
    assert seconds < 5
    print(
        f"{path}: 413 after {sent / 1e6:.1f} MB sent, {seconds:.2f} s, worker +{grown / 1e6:.1f} MB"
    )
