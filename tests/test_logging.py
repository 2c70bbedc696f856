import json
import logging
import os
import re
import subprocess
import sys
import time

import pytest
import requests
import yaml
from hypothesis import given
from hypothesis import strategies as st

from config.logging import RedactCprFilter, redact_cpr
from tests.conftest import ROOT
from tests.plugins.portal import free_port


@pytest.mark.parametrize(
    "text",
    ["cpr 0101701234 rejected", "party 010170-1234", "urn:oio:cpr-nr:3112991234"],
)
def test_cpr_numbers_are_redacted(text):
    assert redact_cpr(text).count("[CPR]") == 1
    assert not any(ch.isdigit() for ch in redact_cpr(text).split("[CPR]")[0][-1:])


def test_longer_numbers_and_dates_are_left_alone():
    assert redact_cpr("case 12345678901 on 2024-01-31") == "case 12345678901 on 2024-01-31"


@given(
    day=st.integers(1, 28),
    month=st.integers(1, 12),
    year=st.integers(0, 99),
    seq=st.integers(0, 9999),
)
def test_any_cpr_shaped_number_is_redacted(day, month, year, seq):
    cpr = f"{day:02d}{month:02d}{year:02d}{seq:04d}"
    assert cpr not in redact_cpr(f"x {cpr} y")
    assert f"{cpr[:6]}-{cpr[6:]}" not in redact_cpr(f"x {cpr[:6]}-{cpr[6:]} y")


def test_filter_rewrites_formatted_message():
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "party %s", ("0101701234",), None)
    assert RedactCprFilter().filter(record) is True
    assert record.getMessage() == "party [CPR]"


# --- every log stream of every process passes the CPR filter --------------------------------------

CPRS_IN_URLS = ("0101701234", "010170-1234", "0101572694")


def _production_env(**extra) -> dict:
    from django.conf import settings as django_settings

    from tests.conftest import _database_url_for

    database = django_settings.DATABASES["default"]
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "OVERBLIK_"))
    }
    return (
        clean
        | {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": "k7#Qx9!vLm2@Zr5$Tp8^Wn3&Yb6*Hc4(Jd1)Fg0-Ks7_Ua9+Ve2=Xi5",
            "OVERBLIK_CPR_HMAC_KEY": "f3Zr9!pQw2@Lm7#Tx5$Vb8^Nc1&Hd4*Jk6(Gs0)Ye3-Ua9+Ri2=Wo5",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": (
                _database_url_for(database)
                if database["ENGINE"].endswith("postgresql")
                else "postgres://postgres@127.0.0.1:5432/overblik"
            ),
            "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        }
        | extra
    )


def _requests_with_cprs(base: str) -> None:
    for path in (
        "/healthz/live?cpr=0101701234",
        "/sager/?cpr=010170-1234",
        "/api/v1/cases/0101572694",
        "/api/v1/cases/010170%2D1234?party=0101701234",
        "/admin/indexes/case/?q=0101701234",
    ):
        try:
            requests.get(base + path, timeout=10, allow_redirects=False)
        except requests.RequestException as exc:  # pragma: no cover - shown in the assertion
            raise AssertionError(f"{path}: {exc}") from exc


def test_gunicorn_as_production_starts_it_logs_no_cpr_number(tmp_path):
    """The web service's command (docker-compose.yml, the Dockerfile's CMD), as production runs
    it: its access log (stdout) once showed CPR numbers from paths and a ?cpr= query."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = list(compose["services"]["web"]["command"])
    dockerfile_cmd = re.search(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.M)
    assert json.loads(dockerfile_cmd.group(1)) == command  # one way production starts it
    port = free_port(8350)
    assert command[0] == "gunicorn"
    # As production runs it, but on loopback, with one worker, from this virtualenv.
    command = [sys.executable, "-m", "gunicorn", *command[1:], "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", "1"]
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, cwd=ROOT, env=_production_env(), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while not _answers(f"http://127.0.0.1:{port}/healthz/live"):
            assert server.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        _requests_with_cprs(f"http://127.0.0.1:{port}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = log.read_text()
    assert "GET /healthz/live" in text and "GET /api/v1/cases/" in text, text[-3000:]
    assert "[CPR]" in text
    leaked = [cpr for cpr in CPRS_IN_URLS if cpr in text or cpr.replace("-", "%2D") in text]
    assert leaked == [], [line for line in text.splitlines() if any(c in line for c in leaked)]


def _answers(url: str) -> bool:
    try:
        requests.get(url, timeout=2)
    except requests.RequestException:
        return False
    return True


def test_gunicorns_error_log_passes_the_filter_too(capsys):
    from gunicorn.config import Config

    from config.gunicorn import CprRedactingLogger

    cfg = Config()
    cfg.set("errorlog", "-")
    cfg.set("accesslog", "-")
    logger = CprRedactingLogger(cfg)
    # Records made by hand: the suite's CPR guard (tests/plugins) flags every logger call
    # that carries a CPR number, which is what these tests do on purpose.
    records = [
        ("Error handling request GET /sager/%s/", ("0101701234",)),
        ("Invalid request from party 010170-1234", None),
    ]
    for message, args in records:
        logger.error_log.handle(
            logging.LogRecord("gunicorn.error", logging.ERROR, __file__, 1, message, args, None)
        )
    err = capsys.readouterr().err
    assert err.count("[CPR]") == 2 and "0101701234" not in err and "010170-1234" not in err


def test_every_handler_of_the_project_logging_redacts_cpr_numbers():
    """runserver's request log (django.server), Celery's (the same LOGGING, config/celery.py)
    and every other logger's handlers: each passes the filter, or its logger does."""
    from logging.config import dictConfig

    from django.conf import settings
    from django.utils.log import DEFAULT_LOGGING

    dictConfig(DEFAULT_LOGGING)  # what Django configures first, then settings.LOGGING
    dictConfig(settings.LOGGING)
    unfiltered = []
    loggers = [logging.getLogger(), *map(logging.getLogger, logging.root.manager.loggerDict)]
    for logger in loggers:
        guarded = any(isinstance(f, RedactCprFilter) for f in logger.filters)
        for handler in logger.handlers:
            if isinstance(handler, logging.NullHandler) or type(handler).__module__.startswith(
                "_pytest"
            ):
                continue  # writes nothing / pytest's own capture
            if not guarded and not any(isinstance(f, RedactCprFilter) for f in handler.filters):
                unfiltered.append(f"{logger.name}: {handler}")
    assert unfiltered == []


def test_runserver_request_lines_are_redacted(capsys):
    from logging.config import dictConfig

    from django.conf import settings
    from django.utils.log import DEFAULT_LOGGING

    dictConfig(DEFAULT_LOGGING)
    dictConfig(settings.LOGGING)
    line = ("GET /sager/?cpr=0101701234 HTTP/1.1", 302, 0)  # a record by hand, as above
    logging.getLogger("django.server").handle(
        logging.LogRecord("django.server", logging.INFO, __file__, 1, '"%s" %s %s', line, None)
    )
    err = capsys.readouterr().err
    assert "[CPR]" in err and "0101701234" not in err
