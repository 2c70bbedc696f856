"""Citizen pages (Mit Overblik). Thin: each view calls selectors and renders.

Citizen data comes only through ``borgerblikket.selectors`` (the visibility
rule) and ``overblik.selectors`` (the citizen's own access log), always with
the CPR number of the logged-in citizen from the server-side session.
"""

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from overblik import session as keys
from overblik.auth import citizen_cpr, login_configured

LOGIN_ERRORS = {
    "assurance_level": _(
        "Dit login havde ikke et højt nok sikringsniveau. Log ind med MitID på "
        "mindst betydeligt niveau, fx med MitID-appen."
    ),
    "no_cpr": _("Vi fik ikke dit CPR-nummer fra MitID, så vi kan ikke vise dine oplysninger."),
    "invalid_cpr": _(
        "Vi fik et CPR-nummer, som ikke er gyldigt, så vi kan ikke vise dine oplysninger."
    ),
}
LOGIN_ERROR_DEFAULT = _("Login lykkedes ikke. Prøv igen om lidt.")


def citizen_required(view):
    """Only a logged-in citizen (with a CPR number in the session) gets past; others log in."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        cpr = citizen_cpr(request)
        if cpr is None:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return view(request, *args, cpr=cpr, **kwargs)

    return wrapper


def home(request):
    """The front page: what Mit Overblik is and how to log in."""
    if citizen_cpr(request):
        return redirect("overblik:overview")
    return render(request, "overblik/home.html")


def login_page(request):
    """Log in with MitID; says so when a session ran out, and when the login is a demo."""
    if citizen_cpr(request):
        return redirect("overblik:overview")
    expired = request.session.pop(keys.EXPIRED, False)
    return render(
        request,
        "overblik/login.html",
        {
            "expired": expired,
            "login_configured": login_configured(),
            "next": request.GET.get("next", ""),
            "idle_minutes": settings.OVERBLIK_SESSION_IDLE_SECONDS // 60,
        },
    )


def login_failed(request):
    """Why the login did not succeed, in plain words (a fixed reason, never a claim value)."""
    reason = request.session.pop(keys.LOGIN_ERROR, None)
    return render(
        request,
        "overblik/login_failed.html",
        {"message": LOGIN_ERRORS.get(reason, LOGIN_ERROR_DEFAULT)},
        status=403 if reason else 200,
    )


def logged_out(request):
    """Confirmation after logging out."""
    return render(request, "overblik/logged_out.html")


@citizen_required
def overview(request, *, cpr):
    """Overblik: latest changed cases, latest payments, active services, exposed areas."""
    return render(request, "overblik/overview.html", {})
