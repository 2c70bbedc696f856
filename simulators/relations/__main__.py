"""Serve the relation stand-ins: ``python -m simulators.relations --port 9402``."""

import argparse
import contextlib
import logging

from simulators.relations import RelationsServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9402)
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the stand-ins only listen on the loopback interface")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s relations %(message)s")
    server = RelationsServer((args.host, args.port))
    logging.getLogger(__name__).info("listening on %s", server.base_url)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
