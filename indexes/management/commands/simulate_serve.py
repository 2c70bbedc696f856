"""`python manage.py simulate_serve`: the simulated source systems over HTTP on loopback."""

import threading

from django.core.management.base import BaseCommand

from indexes.sources.http import simulator_server_start
from indexes.sources.selectors import simulator_routes
from indexes.sources.services import feeds_point_to


def wait_until_interrupted() -> None:
    threading.Event().wait()


class Command(BaseCommand):
    help = (
        "Serve every simulated feed over HTTP (GET /<municipality>/<product path>), for "
        "realism: with --use, the feeds are switched to poll this server instead of in-process."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8030)
        parser.add_argument(
            "--use", action="store_true", help="point the simulated feeds at this server"
        )

    def handle(self, *args, host, port, use, **options):
        routes = simulator_routes()
        server = simulator_server_start(routes=routes, host=host, port=port)
        for route in routes:
            self.stdout.write(f"{server.base_url}{route.path}")
        if use:
            count = feeds_point_to(base_url=server.base_url)
            self.stdout.write(f"{count} feeds now poll {server.base_url}")
        self.stdout.write("Serving; stop with Ctrl-C.")
        try:
            wait_until_interrupted()
        except KeyboardInterrupt:
            pass
        finally:
            server.shutdown()
