"""Serve the mock broker: ``python -m simulators.mitid --port 9400``.

The claim names follow the portal's settings (OVERBLIK_CPR_CLAIM, …) so the
mock issues exactly what the portal reads.
"""

import argparse
import logging
import os
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from config.logging import RedactCprFilter

TEMPLATES = Path(__file__).resolve().parent / "templates"


def build_app():
    """The mock provider's Flask app with the demo citizens and Danish, CDN-free pages."""
    import flask
    import jinja2
    from django.conf import settings
    from oidc_provider_mock import User, app

    from simulators.mitid.citizens import DEMO_CITIZENS, demo_claims

    users = [
        User(
            sub=citizen.sub,
            claims=demo_claims(
                citizen,
                cpr_claim=settings.OVERBLIK_CPR_CLAIM,
                loa_claim=settings.OVERBLIK_LOA_CLAIM,
                name_claim=settings.OVERBLIK_NAME_CLAIM,
            ),
        )
        for citizen in DEMO_CITIZENS
    ]
    flask_app = app(require_nonce=True, issue_refresh_token=False, user_claims=users)
    # app() wraps itself in werkzeug's interactive debugger; a login mock needs none.
    flask_app.debug = False
    flask_app.wsgi_app = getattr(flask_app.wsgi_app, "app", flask_app.wsgi_app)
    flask_app.jinja_env.loader = jinja2.ChoiceLoader(
        [jinja2.FileSystemLoader(TEMPLATES), flask_app.jinja_env.loader]
    )
    names = {citizen.sub: citizen for citizen in DEMO_CITIZENS}

    @flask_app.context_processor
    def demo_citizens():
        return {"demo_citizens": names}

    @flask_app.before_request
    def end_session_at_once():
        # RP-initiated logout (OpenID RP-Initiated Logout 1.0): the mock keeps no login
        # session to end, so its "Log af?" page was only a second click after the portal
        # had already logged the citizen out (issue 11.14). Send the browser straight back
        # to the portal — only to a loopback address, so the mock is no open redirect.
        request = flask.request
        if request.path != "/oauth2/end_session":
            return None
        target = request.values.get("post_logout_redirect_uri", "")
        if not _loopback_url(target):
            return None
        state = request.values.get("state")
        if state:
            target = f"{target}{'&' if '?' in target else '?'}{urlencode({'state': state})}"
        return flask.redirect(target, code=303)

    return flask_app


def _loopback_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.hostname in ("127.0.0.1", "localhost", "::1")


def _exit_with_parent() -> None:
    """A killed test run must not leave the mock listening: watch the parent process."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9400)
    parser.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop when the process that started this one is gone (test runs)",
    )
    args = parser.parse_args()
    if args.exit_with_parent:
        _exit_with_parent()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the mock provider only listens on the loopback interface")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    # The mock speaks plain HTTP on loopback; authlib otherwise insists on TLS.
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    logging.basicConfig(level=logging.INFO, format="%(asctime)s mock-oidc %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactCprFilter())

    from werkzeug.serving import make_server

    server = make_server(args.host, args.port, build_app(), threaded=True)
    logging.getLogger(__name__).info("listening on http://%s:%s", args.host, args.port)
    server.serve_forever()


if __name__ == "__main__":
    main()
