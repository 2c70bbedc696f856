"""Acting for someone else in the portal: the session's side of issue 15.

Whom the citizen may act for, and within which areas, is decided by
``borgerblikket.selectors.acting`` (the relation services) and applied by the
visibility rule (``borgerblikket.selectors.Looking``). Here the session keeps whom
the citizen looks at (a CPR number, server-side only) and the opaque per-session
handles the switcher posts; every request checks the relation again (cached ≤ 60 s),
so a revoked or expired one ends within that time, and a service that does not
answer means the citizen sees their own data and a plain notice.
"""

import secrets

from borgerblikket.selectors import Looking
from borgerblikket.selectors.acting import Principal, principal_for, principals_for
from kle.models import Subject
from overblik import session as keys
from overblik.auth import citizen_cpr

OWN = "mig"  # the switcher's handle for the citizen's own data


def acting_principal(request) -> Principal | None:
    """Whom the logged-in citizen acts for now, or ``None`` (their own data).

    A relation that has ended — or cannot be checked — ends acting at once, with a notice.
    """
    if hasattr(request, "_overblik_acting"):
        return request._overblik_acting
    principal = None
    own = citizen_cpr(request)
    whose = request.session.get(keys.ACTING_CPR) if own else None
    if whose:
        principal = principal_for(who=own, whose=whose)
        if principal is None:
            request.session.pop(keys.ACTING_CPR, None)
            request.session[keys.ACTING_ENDED] = True
    request._overblik_acting = principal
    return principal


def looking(request) -> Looking:
    """What the views hand the selectors: who looks at whose data (their own, or a
    principal's), and the login's assurance level (sensitive titles, issue 15)."""
    own = citizen_cpr(request)
    principal = acting_principal(request)
    assurance = request.session.get(keys.ASSURANCE) or None
    return Looking(who=own, whose=principal.cpr if principal else own, assurance=assurance)


def area_names(scope: tuple[str, ...]) -> list[str]:
    """The KLE areas' names ("Hjemmehjælp …"), for the switcher; the number if KLE lacks it."""
    titles = dict(Subject.objects.filter(number__in=scope).values_list("number", "title"))
    return [titles.get(number, number) for number in scope]


def main_group_name(number: str) -> str:
    """The name of the KLE main group an area lies in ("Sundhed"); the number if KLE lacks it."""
    main = number[:2]
    return Subject.objects.filter(number=main).values_list("title", flat=True).first() or main


def choices(request) -> tuple[list[tuple[str, Principal, list[str]]], bool]:
    """(handle, principal, area names) for everyone the citizen may act for; and whether a
    service did not answer. Handles are random, per session, and stable within it."""
    principals, unavailable = principals_for(cpr=citizen_cpr(request))
    handles = dict(request.session.get(keys.ACTING_HANDLES) or {})
    by_cpr = {cpr: handle for handle, cpr in handles.items()}
    out = []
    for principal in principals:
        handle = by_cpr.get(principal.cpr)
        if handle is None:
            handle = secrets.token_urlsafe(12)
            handles[handle] = principal.cpr
        names = [] if principal.scope == ("*",) else area_names(principal.scope)
        out.append((handle, principal, names))
    request.session[keys.ACTING_HANDLES] = handles
    return out, unavailable


def switch(request, handle: str) -> bool:
    """Act for the person behind ``handle`` (or for oneself: ``OWN``); False if unknown."""
    request.__dict__.pop("_overblik_acting", None)
    if handle == OWN:
        request.session.pop(keys.ACTING_CPR, None)
        return True
    whose = (request.session.get(keys.ACTING_HANDLES) or {}).get(handle)
    if not whose or principal_for(who=citizen_cpr(request), whose=whose) is None:
        return False
    request.session[keys.ACTING_CPR] = whose
    return True
