"""Citizen login: OpenID Connect through a MitID broker (mozilla-django-oidc).

The broker vouches for the citizen's CPR number (a claim whose name is the
setting OVERBLIK_CPR_CLAIM) at an NSIS assurance level (OVERBLIK_LOA_CLAIM,
accepted values OVERBLIK_ACCEPTED_LOA). The CPR number is kept only in the
server-side session; the account is found by its keyed hash.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
    OIDCLogoutView,
)
from stdnum.dk import cpr as cpr_number
from stdnum.exceptions import ValidationError

from borgerblikket.models import UsageCount
from borgerblikket.selectors.usage import usage_shown_for_citizen
from borgerblikket.services.usage import usage_count
from overblik import session as keys
from overblik.ratelimits import (
    citizen_login_callback_rate_limit,
    citizen_login_start_rate_limit,
)
from overblik.services import citizen_get_or_create, citizen_visit_start

logger = logging.getLogger(__name__)


class LoginRefused(SuspiciousOperation):
    """The broker's answer was valid but not enough to let the citizen in."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CitizenLogin:
    cpr: str
    name: str
    citizen_id: int
    since: datetime | None
    assurance: str = ""


def citizen_cpr(request: HttpRequest) -> str | None:
    """The logged-in citizen's CPR number, or None (deny by default)."""
    if not request.user.is_authenticated:
        return None
    return request.session.get(keys.CPR) or None


class CitizenOIDCBackend(OIDCAuthenticationBackend):
    """Finds or creates the citizen named by the broker's CPR claim."""

    def authenticate(self, request, **kwargs):
        try:
            return super().authenticate(request, **kwargs)
        except LoginRefused:
            return None
        except requests.RequestException as exc:
            # The broker refused the code (made up, reused, expired) or did not answer:
            # the login fails plainly instead of with a server error.
            logger.warning("citizen login failed at the broker: %s", type(exc).__name__)
            return None

    def _refuse(self, reason: str) -> LoginRefused:
        # The reason is a fixed code (never a claim value), safe to log and to show.
        logger.warning("citizen login refused: %s", reason)
        self.request.session[keys.LOGIN_ERROR] = reason
        return LoginRefused(reason)

    def retrieve_matching_jwk(self, token):
        # A provider with a single signing key may leave out `kid` (RFC 7515 §4.1.4
        # makes it optional); then that one key must verify the token.
        if "kid" in jwt.get_unverified_header(token):
            return super().retrieve_matching_jwk(token)
        response = requests.get(self.OIDC_OP_JWKS_ENDPOINT, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        keys_ = response.json().get("keys", [])
        if len(keys_) != 1:
            raise self._refuse("signing_key")
        return jwt.PyJWK(keys_[0])

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise self._refuse("audience")
        issuer = settings.OIDC_OP_ISSUER
        if issuer and payload.get("iss") != issuer:
            raise self._refuse("issuer")
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        userinfo = self.get_userinfo(access_token, id_token, payload)
        # The signed ID token wins over the userinfo answer where both carry a claim.
        claims = {**userinfo, **payload}
        raw_cpr = claims.get(settings.OVERBLIK_CPR_CLAIM)
        if not isinstance(raw_cpr, str):
            raise self._refuse("no_cpr")
        level = claims.get(settings.OVERBLIK_LOA_CLAIM)
        if level not in settings.OVERBLIK_ACCEPTED_LOA:
            raise self._refuse("assurance_level")
        try:
            cpr = cpr_number.validate(raw_cpr)
        except ValidationError:
            raise self._refuse("invalid_cpr") from None
        citizen = citizen_get_or_create(cpr=cpr)
        user = citizen.user
        if not user.is_active:
            raise self._refuse("inactive")
        name = claims.get(settings.OVERBLIK_NAME_CLAIM)
        user.overblik_login = CitizenLogin(
            cpr=cpr,
            name=name if isinstance(name, str) else "",
            citizen_id=citizen.pk,
            since=citizen_visit_start(citizen=citizen),
            assurance=level,
        )
        return user


def login_configured() -> bool:
    """Whether a login provider is configured at all."""
    return bool(settings.OIDC_OP_AUTHORIZATION_ENDPOINT and settings.OIDC_RP_CLIENT_ID)


@method_decorator(citizen_login_start_rate_limit, name="dispatch")
class CitizenLoginStartView(OIDCAuthenticationRequestView):
    """Sends the browser to the broker (state, nonce and PKCE kept in the session)."""

    def get(self, request):
        if not login_configured():
            return redirect(settings.LOGIN_URL)
        return super().get(request)


@method_decorator(citizen_login_callback_rate_limit, name="dispatch")
class CitizenCallbackView(OIDCAuthenticationCallbackView):
    """The broker's redirect back: on success the session gets the citizen's CPR and name."""

    @property
    def failure_url(self):
        return resolve_url(settings.LOGIN_REDIRECT_URL_FAILURE)

    def login_success(self):
        response = super().login_success()
        login: CitizenLogin = self.user.overblik_login
        session = self.request.session
        now = time.time()
        session[keys.CPR] = login.cpr
        session[keys.NAME] = login.name
        session[keys.ASSURANCE] = login.assurance
        session[keys.CITIZEN_ID] = login.citizen_id
        session[keys.SINCE] = login.since.isoformat() if login.since else None
        session[keys.LOGIN_AT] = now
        session[keys.LAST_ACTIVITY] = now
        session.set_expiry(settings.OVERBLIK_SESSION_IDLE_SECONDS + keys.TOUCH_INTERVAL)
        # A login counts for each municipality and KLE main group of the citizen's data
        # (issue 16): counters only, nothing of who logged in.
        usage_count(
            page_kind=UsageCount.PageKind.LOGIN, shown=usage_shown_for_citizen(cpr=login.cpr)
        )
        return response


class CitizenLogoutView(OIDCLogoutView):
    """POST only: ends the session here and, when configured, at the broker."""

    http_method_names = ["post"]


def provider_logout_url(request: HttpRequest) -> str:
    """Where to send the browser to end the broker's session too.

    No id_token_hint: the ID token carries the CPR number and must not be put in
    a URL; client_id identifies us instead (OpenID RP-Initiated Logout 1.0 §2).
    """
    back = request.build_absolute_uri(reverse(settings.LOGOUT_REDIRECT_URL))
    if not settings.OIDC_OP_LOGOUT_ENDPOINT:
        return back
    query = urlencode({"client_id": settings.OIDC_RP_CLIENT_ID, "post_logout_redirect_uri": back})
    return f"{settings.OIDC_OP_LOGOUT_ENDPOINT}?{query}"
