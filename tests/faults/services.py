"""Private services for fault drills: a PostgreSQL cluster, a Redis server, gunicorn, Celery.

Used by ``bench/faults.py`` and by the bounded drills in ``tests/faults/``.
Everything runs on loopback, on free ports, in a temporary directory, so a drill
may stop, kill and restart any of them without disturbing the shared services.
Every wait is bounded; ``Stack.close()`` stops whatever is still running.

No Django import here: the bench calls this before ``django.setup()``.
"""

import contextlib
import glob
import http.client
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
HOST = "127.0.0.1"
DRILL_SECRET_KEY = secrets.token_urlsafe(64)
DRILL_CPR_HMAC_KEY = secrets.token_urlsafe(64)


class ServiceMissing(RuntimeError):
    """A binary the drill needs is not installed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_answers(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


def postgres_bin_dir() -> Path:
    """The newest installed PostgreSQL's bin directory (Debian layout), or PATH's."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
    )
    if candidates:
        return Path(candidates[-1])
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise ServiceMissing("PostgreSQL server binaries (initdb, pg_ctl) are not installed")


def redis_server_binary() -> str:
    binary = shutil.which("redis-server")
    if not binary:
        raise ServiceMissing("redis-server is not installed")
    return binary


def services_missing() -> str | None:
    """Why a drill cannot run here, or None."""
    try:
        postgres_bin_dir()
        redis_server_binary()
    except ServiceMissing as exc:
        return str(exc)
    return None


def wait_for(condition, *, timeout: float, interval: float = 0.1, what: str = "condition"):
    """``condition()``'s first truthy value within ``timeout`` seconds, else TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


class PrivatePostgres:
    """A throw-away PostgreSQL cluster (initdb + pg_ctl) on a free loopback port.

    initdb refuses to run as root, so as root the cluster belongs to the
    ``postgres`` OS user. ``fsync`` is off (a drill needs no durability across
    an OS crash; a fast or immediate restart of the server keeps every commit).
    """

    def __init__(self, root: Path):
        self.bin = postgres_bin_dir()
        self.root = root
        self.data = root / "pgdata"
        self.log = root / "postgres.log"
        self.port = free_port()
        self.as_other_user = os.geteuid() == 0

    def _run(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
        command = list(args)
        if self.as_other_user:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if result.returncode:
            raise RuntimeError(
                f"{Path(args[0]).name} failed: {(result.stderr or result.stdout)[-800:]}"
            )
        return result

    def init(self) -> "PrivatePostgres":
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_other_user:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        settings = {
            "listen_addresses": HOST,
            "port": self.port,
            "unix_socket_directories": str(self.root),
            "fsync": "off",
            "full_page_writes": "off",
            "max_connections": 120,
            "shared_buffers": "64MB",
        }
        with (self.data / "postgresql.auto.conf").open("a") as conf:
            for name, value in settings.items():
                conf.write(f"{name} = '{value}'\n")
        return self

    def start(self, timeout: float = 30.0) -> None:
        try:
            self._start(timeout)
        except RuntimeError as exc:
            log = self.log.read_text(errors="replace")[-800:] if self.log.exists() else ""
            raise RuntimeError(f"{exc}\n{log}") from None

    def _pg_ctl(self, command: str, *options: str, timeout: float) -> None:
        """``pg_ctl -D <data> <options> -w -t <timeout> <command>``, waiting until it is done."""
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            *options,
            "-w",
            "-t",
            str(int(timeout)),
            command,
            timeout=timeout + 5,
        )

    def _start(self, timeout: float) -> None:
        self._pg_ctl("start", "-l", str(self.log), timeout=timeout)

    def stop(self, mode: str = "fast", timeout: float = 30.0) -> None:
        self._pg_ctl("stop", "-m", mode, timeout=timeout)

    def restart(self, mode: str = "fast", timeout: float = 30.0) -> float:
        """``pg_ctl restart -m mode``; the seconds it took until the server answered."""
        started = time.monotonic()
        self._pg_ctl("restart", "-l", str(self.log), "-m", mode, timeout=timeout)
        return time.monotonic() - started

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def url(self, database: str) -> str:
        return f"postgres://postgres@{HOST}:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres") -> str:
        result = subprocess.run(
            [
                str(self.bin / "psql"),
                "-h",
                HOST,
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-tAX",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                statement,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return result.stdout.strip()

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            if self.is_running():
                self.stop(mode="immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateStandby(PrivatePostgres):
    """A streaming standby of ``primary`` (``pg_basebackup -R``) on a free port of its own.

    The primary's initdb (``--auth=trust``) already lets 127.0.0.1 connect for
    replication, and PostgreSQL's defaults (``wal_level = replica``,
    ``max_wal_senders = 10``, ``hot_standby = on``) are all a standby needs.
    """

    def __init__(self, root: Path, primary: PrivatePostgres):
        super().__init__(root)
        self.primary = primary

    def init(self) -> "PrivateStandby":
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_other_user:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            str(self.bin / "pg_basebackup"),
            "-h",
            HOST,
            "-p",
            str(self.primary.port),
            "-U",
            "postgres",
            "-D",
            str(self.data),
            "-R",  # standby.signal and primary_conninfo
            "-X",
            "stream",
            "-c",
            "fast",
            "--no-sync",
            timeout=180,
        )
        # The copy carries the primary's postgresql.auto.conf (its port); the last line wins.
        with (self.data / "postgresql.auto.conf").open("a") as conf:
            conf.write(f"port = '{self.port}'\nunix_socket_directories = '{self.root}'\n")
        return self

    def streaming(self) -> bool:
        """The standby receives WAL from the primary (its WAL receiver streams)."""
        try:
            return (
                self.sql("SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'")
                == "1"
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            return False

    def replayed(self) -> bool:
        """Everything the primary has written so far is replayed here."""
        target = self.primary.sql("SELECT pg_current_wal_lsn()")
        try:
            return self.sql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn") == "t"
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            return False


class PrivateRedis:
    """A redis-server on a free loopback port, without persistence.

    Stopping it loses every queued task message, as a Redis restart without
    persistence does: the inbox sweeper must find the work again.
    """

    def __init__(self, root: Path):
        self.binary = redis_server_binary()
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 15.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        log = (self.root / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                HOST,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(lambda: port_answers(self.port), timeout=timeout, what="redis-server")

    def stop(self, timeout: float = 15.0) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        self.process = None

    def url(self, db: int = 0) -> str:
        return f"redis://{HOST}:{self.port}/{db}"


class Process:
    """A child process in its own session, its output appended to ``log``."""

    def __init__(self, name: str, command: list[str], env: dict, log: Path):
        self.name, self.command, self.env, self.log = name, command, env, log
        self.process: subprocess.Popen | None = None
        self.ready = lambda: None  # waits until the process serves (set by Stack)

    def start(self) -> "Process":
        out = self.log.open("ab")
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def alive(self) -> bool:
        return bool(self.process and self.process.poll() is None)

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 30.0) -> None:
        """Signal the whole process group (a worker and its pool children)."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=timeout)
        elif self.process:
            # The leader is gone; pool children may not be.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)

    def stop(self, timeout: float = 20.0) -> None:
        self.kill(signal.SIGTERM, timeout=timeout)
        self.kill(signal.SIGKILL, timeout=timeout)


class Stack:
    """A private PostgreSQL + Redis and the project's processes on top of them.

    ``env`` is what every child gets: production-like settings (persistent,
    health-checked connections), the private database and broker, and a fast
    inbox sweep (``INDEXES_INBOX_SWEEP_EVERY``/``_AFTER``; ``None`` keeps the
    production defaults of config/settings/base.py, 15 s / 30 s).
    """

    def __init__(
        self,
        *,
        database: str = "overblik",
        sweep_every: float | None = 2.0,
        sweep_after: int | None = 5,
        root: Path | None = None,
    ):
        self.root = root or Path(tempfile.mkdtemp(prefix="overblik-faults-"))
        # The cluster's OS user (postgres, when run as root) must reach its directory.
        self.root.chmod(0o755)
        self.logs = self.root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.postgres = PrivatePostgres(self.root / "pg")
        self.redis = PrivateRedis(self.root / "redis")
        self.database = database
        self.web_port = free_port()
        self.processes: list[Process] = []
        self.sweep_every, self.sweep_after = sweep_every, sweep_after
        # More environment for the processes started from now on (a drill's own settings).
        self.extra_env: dict[str, str] = {}

    # --- environment --------------------------------------------------------------------

    @property
    def env(self) -> dict:
        sweep = {
            name: str(value)
            for name, value in (
                ("INDEXES_INBOX_SWEEP_EVERY", self.sweep_every),
                ("INDEXES_INBOX_SWEEP_AFTER", self.sweep_after),
            )
            if value is not None
        }
        inherited = {
            name: value
            for name, value in os.environ.items()
            if name not in ("INDEXES_INBOX_SWEEP_EVERY", "INDEXES_INBOX_SWEEP_AFTER")
        }
        return (
            inherited
            | sweep
            | {
                "DJANGO_SETTINGS_MODULE": "config.settings.production",
                # Production refuses weak keys: throw-away ones of this run (one for all processes).
                "DJANGO_SECRET_KEY": DRILL_SECRET_KEY,
                "OVERBLIK_CPR_HMAC_KEY": DRILL_CPR_HMAC_KEY,
                "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost",
                "DJANGO_SECURE_SSL_REDIRECT": "false",
                "DATABASE_URL": self.postgres.url(self.database),
                "CELERY_BROKER_URL": self.redis.url(0),
                "PYTHONUNBUFFERED": "1",
            }
            | self.extra_env
        )

    # --- services -----------------------------------------------------------------------

    def start_services(self) -> None:
        self.postgres.init()
        self.postgres.start()
        self.redis.start()

    def migrate(self, *, template: str | None = None) -> float:
        """Create the database (from ``template`` if given, else by migrating); seconds."""
        started = time.monotonic()
        if template:
            self.postgres.sql(f'CREATE DATABASE "{self.database}" TEMPLATE "{template}"')
        else:
            self.postgres.sql(f'CREATE DATABASE "{self.database}"')
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
                cwd=ROOT,
                env=self.env,
                check=True,
                timeout=180,
                capture_output=True,
            )
        return time.monotonic() - started

    # --- processes ----------------------------------------------------------------------

    def _process(self, name: str, command: list[str]) -> Process:
        process = Process(name, command, self.env, self.logs / f"{name}.log").start()
        self.processes.append(process)
        return process

    def gunicorn(self, *, workers: int = 2, timeout: float = 60.0, wait: bool = True) -> Process:
        process = self._process(
            "gunicorn",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"{HOST}:{self.web_port}",
                "--workers",
                str(workers),
                # A request stuck on the database is killed, not left hanging.
                "--timeout",
                "30",
                "--log-level",
                "warning",
            ],
        )

        def live() -> bool:
            if not process.alive():
                raise RuntimeError(f"gunicorn exited; see {process.log}")
            try:
                connection = http.client.HTTPConnection(HOST, self.web_port, timeout=2)
                connection.request("GET", "/healthz/live")
                return connection.getresponse().status == 200
            except OSError:
                return False

        process.ready = lambda: wait_for(live, timeout=timeout, interval=0.2, what="gunicorn")
        if wait:
            process.ready()
        return process

    def worker(
        self, name: str, *, concurrency: int = 1, timeout: float = 60.0, wait: bool = True
    ) -> Process:
        # Unique per start: the readiness line of an earlier (killed) start must not count.
        hostname = f"{name}-{uuid.uuid4().hex[:6]}@faults"
        process = self._process(
            name,
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={concurrency}",
                "--pool=prefork",
                "--without-gossip",
                "--without-mingle",
                "-n",
                hostname,
            ],
        )
        process.ready = lambda: self._wait_worker(process, hostname, timeout)
        if wait:
            process.ready()
        return process

    def _wait_worker(self, process: Process, hostname: str, timeout: float) -> None:
        """Until the worker answers Celery's own ping on the private broker.

        Not its "ready." log line: that is an INFO line, gone with DJANGO_LOG_LEVEL=WARNING.
        """
        from celery import Celery

        url = self.redis.url(0)
        # An app of its own on the private broker (this process's app may point elsewhere,
        # e.g. the test suite's Redis); every broker URL set, reads and writes alike.
        pinger = Celery("faults-ping", set_as_current=False)
        pinger.conf.update(
            broker_url=url, broker_read_url=url, broker_write_url=url, accept_content=["json"]
        )

        def answered() -> bool:
            if not process.alive():
                raise RuntimeError(f"celery worker exited; see {process.log}")
            try:
                return bool(pinger.control.ping(destination=[hostname], timeout=0.5))
            except Exception:  # Redis (re)starting: not yet
                return False

        try:
            wait_for(answered, timeout=timeout, interval=0.2, what=f"worker {hostname}")
        finally:
            pinger.close()

    def beat(self) -> Process:
        return self._process(
            "beat",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--loglevel=INFO",
                "--max-interval=1",
                "--pidfile=",
                "-s",
                str(self.root / "beat-schedule"),
            ],
        )

    def start_all(self, *, web_workers: int = 1, workers: int = 1) -> list[Process]:
        """gunicorn (unless ``web_workers`` is 0), ``workers`` Celery workers and beat,
        started side by side; returns when all answer."""
        started = [self.gunicorn(workers=web_workers, wait=False)] if web_workers else []
        started += [self.worker(f"w{i}", wait=False) for i in range(workers)]
        for process in started:
            process.ready()
        return [*started, self.beat()]

    def kill_all(self) -> None:
        """SIGKILL every process (a drill's end: nothing of theirs is kept)."""
        for process in self.processes:
            process.kill()
        self.processes.clear()

    def close(self) -> None:
        for process in reversed(self.processes):
            with contextlib.suppress(Exception):
                process.stop()
        with contextlib.suppress(Exception):
            self.redis.stop()
        self.postgres.destroy()

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
