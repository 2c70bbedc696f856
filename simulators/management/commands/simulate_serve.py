"""`python manage.py simulate_serve`: the simulated source systems over HTTP on loopback."""

import signal
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand

from simulators.feeds import stand_in_feeds_point_to, stand_ins_url
from simulators.http import PREFIX, SimulatorServer, simulator_server
from simulators.systems import SIMULATORS


def serve_until_interrupted(server: SimulatorServer) -> None:
    # In the main thread, which wakes at least every half second: a signal is acted on
    # even when the kernel hands it to a request's thread.
    server.serve_forever(poll_interval=0.5)


def _interrupt(signum, frame) -> None:
    # SIGTERM too (scripts/serve stops its servers with it), and SIGINT even when this
    # process started with it ignored (a background child of a script): a quiet stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = (
        "Serve every simulated source system over HTTP "
        f"(GET /{PREFIX}/<settings>/<municipality>/<product path>), where the feeds of the "
        "demo and the tests poll them; with --use, point every simulated feed at this server."
    )

    def add_arguments(self, parser):
        default = urlsplit(stand_ins_url())
        parser.add_argument("--host", default=default.hostname or "127.0.0.1")
        parser.add_argument(
            "--port", type=int, default=default.port or 9401, help="default: SIMULATORS_PORT"
        )
        parser.add_argument(
            "--use", action="store_true", help="point the simulated feeds at this server"
        )

    def handle(self, *args, host, port, use, **options):
        server = simulator_server(host=host, port=port)
        for simulator in SIMULATORS.values():
            self.stdout.write(
                f"{server.base_url}/{PREFIX}/<settings>/<kommune>/{simulator.path} "
                f"({simulator.product})"
            )
        if use:
            count = stand_in_feeds_point_to(base_url=server.base_url)
            self.stdout.write(f"{count} feeds now poll {server.base_url}")
        self.stdout.write("Serving; stop with Ctrl-C.")
        self.stdout.flush()
        previous = (
            signal.signal(signal.SIGINT, _interrupt),
            signal.signal(signal.SIGTERM, _interrupt),
        )
        try:
            serve_until_interrupted(server)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGINT, previous[0])
            signal.signal(signal.SIGTERM, previous[1])
            server.server_close()
