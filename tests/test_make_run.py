"""`make run`'s servers (scripts/serve) stop on Ctrl-C: every child, quietly, no crash.

The former recipe's shutdown trap (`trap 'kill 0' EXIT INT TERM`) signalled its
own process group, itself included, and re-entered itself until bash died with
"Segmentation fault"; the servers it had started were left to the signal alone.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.conftest import ROOT
from tests.plugins.portal import free_port


def group_members(pgid: int) -> list[str]:
    """The live (not zombie) processes of a process group, as "pid command"."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            members.append(f"{stat.parent.name} {(stat.parent / 'cmdline').read_bytes()[:120]!r}")
    return members


def wait_for(condition, what: str, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def answers(url: str) -> bool:
    try:
        requests.get(url, timeout=2, allow_redirects=False)
    except requests.RequestException:
        return False
    return True


def serve_env(tmp_path: Path, **extra) -> dict:
    """`make run`'s environment: local settings on a SQLite file of this test."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "OVERBLIK_", "SIMULATORS_"))
    }
    return (
        env
        | {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
            "PY": sys.executable,
            "PORT": str(free_port(8300)),
            "OIDC_MOCK_PORT": str(free_port(9450)),
            "SIMULATORS_PORT": str(free_port(9480)),
            "RELATIONS_PORT": str(free_port(9490)),
            "MAIL_SMTP_PORT": str(free_port(9500)),
            "MAIL_PAGE_PORT": str(free_port(9510)),
            "SMS_GATEWAY_PORT": str(free_port(9520)),
        }
        | extra
    )


def manage(env: dict, *command: str) -> None:
    """A manage.py command on the test's SQLite file, as scripts/run runs them before
    scripts/serve (beat's scheduler keeps its tables there)."""
    done = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def serve_start(env: dict, log: Path) -> subprocess.Popen:
    """scripts/serve as a terminal starts `make run` (a process group of its own), its
    output in ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            ["bash", "scripts/serve"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=as_a_terminal_starts_it,
        )


def as_a_terminal_starts_it() -> None:
    """In the child before exec: a process group of its own, SIGINT and SIGTERM at their
    defaults. (A process that ignores SIGINT hands that on, and bash cannot trap a signal
    ignored at its start: some test libraries leave it ignored in the suite's process.)"""
    os.setsid()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def interrupt_like_a_terminal(process: subprocess.Popen, log: Path) -> str:
    """Ctrl-C: SIGINT to the whole foreground process group; the output once it stopped."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise AssertionError(
            f"still running a minute after Ctrl-C:\n{log.read_text()[-3000:]}"
        ) from None
    return log.read_text()


def test_ctrl_c_stops_every_server_cleanly_and_quietly(tmp_path):
    with_broker = settings.REDIS_AVAILABLE
    env = serve_env(
        tmp_path, **({"CELERY_BROKER_URL": settings.CELERY_BROKER_URL} if with_broker else {})
    )
    manage(env, "migrate", "--no-input", "-v", "0")
    log = tmp_path / "serve.log"
    process = serve_start(env, log)
    try:
        wait_for(lambda: answers(f"http://127.0.0.1:{env['PORT']}/"), "the portal")
        wait_for(lambda: answers(f"http://127.0.0.1:{env['OIDC_MOCK_PORT']}/"), "the login mock")
        wait_for(
            lambda: answers(f"http://127.0.0.1:{env['SIMULATORS_PORT']}/"), "the simulated systems"
        )
        if with_broker:
            wait_for(lambda: " ready." in log.read_text(), "the Celery worker")
            wait_for(lambda: "beat: Starting" in log.read_text(), "Celery beat")
        started = group_members(process.pid)
        assert len(started) >= (8 if with_broker else 5), started
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        raise

    output = interrupt_like_a_terminal(process, log)

    assert process.returncode in (0, 130), output[-3000:]
    assert "Segmentation fault" not in output and "Traceback" not in output, output[-3000:]
    time.sleep(0.5)  # a killed child's last breath
    assert group_members(process.pid) == [], output[-3000:]


@pytest.mark.parametrize("sig, status", [(signal.SIGTERM, 143)])
def test_a_terminate_signal_to_the_script_alone_stops_its_servers_too(tmp_path, sig, status):
    """A process manager signals only the script: runserver and the stand-ins must not outlive
    it."""
    env = serve_env(tmp_path)
    manage(env, "migrate", "--no-input", "-v", "0")
    log = tmp_path / "serve.log"
    process = serve_start(env, log)
    try:
        wait_for(lambda: answers(f"http://127.0.0.1:{env['PORT']}/"), "the portal")
        wait_for(lambda: answers(f"http://127.0.0.1:{env['OIDC_MOCK_PORT']}/"), "the login mock")
        wait_for(
            lambda: answers(f"http://127.0.0.1:{env['SIMULATORS_PORT']}/"), "the simulated systems"
        )
        process.send_signal(sig)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    output = log.read_text()
    assert process.returncode == status, output[-3000:]
    assert "Segmentation fault" not in output and "Traceback" not in output, output[-3000:]
    time.sleep(0.5)
    assert group_members(process.pid) == [], output[-3000:]


FAKE_SERVER = f"""#!{sys.executable}
# Stands in for every server scripts/serve starts: like Celery, it installs its own
# handlers (a background child of a script starts with SIGINT ignored), notes each
# signal it gets and takes a moment to shut down, as Celery beat does.
import os, signal, sys, time
DELAY = {{delay}}
log = os.environ["SIGNAL_LOG"] + "." + str(os.getpid())
stopping = []
def note(number, frame):
    with open(log, "a") as f:
        f.write(signal.Signals(number).name + "\\n")
    stopping.append(number)
signal.signal(signal.SIGINT, note)
signal.signal(signal.SIGTERM, note)
with open(log, "a") as f:
    f.write("started\\n")
while not stopping:
    time.sleep(0.1)
time.sleep(DELAY)
"""


def test_ctrl_c_signals_each_server_once_while_it_shuts_down(tmp_path):
    """A second signal during a server's own shutdown interrupts its clean-up (Celery beat
    answered one with a SystemExit traceback): after Ctrl-C, which the terminal sends to
    every child, the script waits for them instead of signalling them again."""
    fake = tmp_path / "python"
    fake.write_text(FAKE_SERVER.format(delay=2))
    fake.chmod(0o755)
    env = serve_env(tmp_path, PY=str(fake), SIGNAL_LOG=str(tmp_path / "signals"))
    env["CELERY_BROKER_URL"] = "redis://127.0.0.1:1/0"  # never reached: the servers are fakes
    process = subprocess.Popen(
        ["bash", "scripts/serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=as_a_terminal_starts_it,
    )
    logs = lambda: list(tmp_path.glob("signals.*"))  # noqa: E731
    try:
        wait_for(
            lambda: len(logs()) == 8,
            "the eight servers (simulated systems, relations, login mock, mail server, "
            "SMS gateway, worker, beat, portal)",
        )
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        raise

    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=60)

    received = {log.name: log.read_text().split() for log in logs()}
    assert all(signals == ["started", "SIGINT"] for signals in received.values()), received
    assert process.returncode == 130


def test_an_interrupt_to_the_script_alone_still_stops_its_servers(tmp_path):
    """`kill -INT` to the script only (not its group): its servers get TERM after the grace."""
    fake = tmp_path / "python"
    fake.write_text(FAKE_SERVER.format(delay=0))
    fake.chmod(0o755)
    env = serve_env(tmp_path, PY=str(fake), SIGNAL_LOG=str(tmp_path / "signals"))
    process = subprocess.Popen(
        ["bash", "scripts/serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=as_a_terminal_starts_it,
    )
    logs = lambda: list(tmp_path.glob("signals.*"))  # noqa: E731
    try:
        wait_for(
            lambda: len(logs()) == 7,
            "the simulated systems, the relations stand-in, the login mock, the mail server, "
            "the SMS gateway, beat (its tasks in-process without a broker) and the portal",
        )
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        raise

    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)

    assert all(log.read_text().split() == ["started", "SIGTERM"] for log in logs())
    time.sleep(0.5)
    assert group_members(process.pid) == []


def test_without_a_broker_the_schedule_still_runs_and_a_due_mail_is_sent(tmp_path):
    """`make run`'s default (SQLite, no broker) has no worker: its beat runs each scheduled
    task in-process, so the outbox, the sweeps and the nightly jobs are not dead there. A
    due notification is delivered to the demo mail server without any step by hand."""
    env = serve_env(tmp_path)
    prepare = (
        "from tests.overblik import data; "
        "from tests.notifications.helpers import due_message, kim_settings; "
        "d = data.build(); "
        "due_message(kim_settings(), items=[['status', 'case', d.cases[0].pk]])"
    )
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "shell", "-c", prepare)
    log = tmp_path / "serve.log"
    process = serve_start(env, log)
    mails = f"http://127.0.0.1:{env['MAIL_PAGE_PORT']}/messages.json"
    try:
        wait_for(lambda: answers(mails), "the demo mail server")
        wait_for(
            lambda: len(requests.get(mails, timeout=2).json()["messages"]) == 1,
            f"the due mail (log: {log})",
            timeout=120,
        )
        [mail] = requests.get(mails, timeout=2).json()["messages"]
        assert mail["to"] == ["kim@example.dk"]
    finally:
        output = interrupt_like_a_terminal(process, log)
    assert "Traceback" not in output, output[-3000:]
