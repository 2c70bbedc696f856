"""Security headers of every response, and the citizen's sliding session."""

import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import redirect
from django.utils import translation

from overblik import session as keys
from overblik.services import citizen_seen


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def content_security_policy() -> str:
    """The CSP header value: settings.OVERBLIK_CSP plus the login provider in form-action.

    The provider's origin is needed in form-action because logging out is a
    form POST that redirects to the broker's end-session endpoint.
    """
    directives = {name: list(values) for name, values in settings.OVERBLIK_CSP.items()}
    for endpoint in (settings.OIDC_OP_AUTHORIZATION_ENDPOINT, settings.OIDC_OP_LOGOUT_ENDPOINT):
        origin = _origin(endpoint or "")
        if origin and origin not in directives.setdefault("form-action", []):
            directives["form-action"].append(origin)
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


class SecurityHeadersMiddleware:
    """CSP (no 'unsafe-inline'), Permissions-Policy and CORP on every response.

    Pages with a citizen's data are also marked ``no-store`` so neither the
    browser nor a proxy keeps a copy.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault("Permissions-Policy", settings.OVERBLIK_PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        session = getattr(request, "session", None)
        if session is not None and session.get(keys.CPR):
            response.headers["Cache-Control"] = "no-store"
        return response


class CitizenSessionMiddleware:
    """Ends a citizen's session after OVERBLIK_SESSION_IDLE_SECONDS without a request.

    The expiry slides: each request (at most one write a minute) moves it on.
    A session also ends OVERBLIK_SESSION_MAX_SECONDS after login, however busy.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if request.user.is_authenticated and session.get(keys.CPR):
            now = time.time()
            last = session.get(keys.LAST_ACTIVITY, 0)
            started = session.get(keys.LOGIN_AT, 0)
            if (
                now - last > settings.OVERBLIK_SESSION_IDLE_SECONDS
                or now - started > settings.OVERBLIK_SESSION_MAX_SECONDS
            ):
                logout(request)
                request.session[keys.EXPIRED] = True
                return redirect(settings.LOGIN_URL)
            if now - last >= keys.TOUCH_INTERVAL:
                session[keys.LAST_ACTIVITY] = now
                session.set_expiry(settings.OVERBLIK_SESSION_IDLE_SECONDS + keys.TOUCH_INTERVAL)
                citizen_seen(citizen_id=session[keys.CITIZEN_ID])
        return self.get_response(request)


class DanishFirstLocaleMiddleware(LocaleMiddleware):
    """Danish unless the citizen picked another language with the language switch.

    Unlike Django's LocaleMiddleware the browser's Accept-Language is not
    consulted: the portal speaks Danish by default, as borger.dk does.
    """

    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
