"""What every page's layout needs: the citizen's name, the menu, whether login is a demo."""

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from overblik import session as keys
from overblik.acting import acting_principal

# (url name, label, url names that mark the item as current)
MENU = (
    ("overblik:overview", _("Overblik"), {"overview"}),
    ("overblik:cases", _("Sager"), {"cases", "case"}),
    ("overblik:benefits", _("Ydelser"), {"benefits", "benefit"}),
    ("overblik:services", _("Serviceydelser og hjælpemidler"), {"services", "service"}),
    ("overblik:access-log", _("Hvem har set mine data"), {"access-log"}),
    ("overblik:notifications", _("Beskeder"), {"notifications"}),
)


def _menu(request):
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match and match.namespace == "overblik" else None
    items = []
    for name, label, names in MENU:
        try:
            href = reverse(name)
        except NoReverseMatch:  # a page not built yet is left out of the menu
            continue
        items.append({"href": href, "label": label, "current": current in names})
    return items


def portal(request):
    session = getattr(request, "session", None)
    is_citizen = bool(
        session is not None and request.user.is_authenticated and session.get(keys.CPR)
    )
    acting_for, acting_ended = None, False
    if is_citizen:
        acting_for = acting_principal(request)
        acting_ended = bool(session.pop(keys.ACTING_ENDED, False))
    return {
        "acting_for": acting_for,
        "acting_ended": acting_ended,
        "is_citizen": is_citizen,
        "citizen_name": session.get(keys.NAME, "") if is_citizen else "",
        "menu": _menu(request) if is_citizen else [],
        "login_is_demo": bool(settings.OVERBLIK_MOCK_OIDC_URL),
    }
