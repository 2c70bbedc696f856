"""Citizen pages (Mit Overblik). Thin: each view calls selectors and renders.

Citizen data comes only through ``borgerblikket.selectors`` (the visibility
rule) and ``overblik.selectors`` (the citizen's own access log), always with
the CPR number of the logged-in citizen from the server-side session.
"""

from datetime import datetime
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from borgerblikket import selectors as bs
from borgerblikket.models import UsageCount
from borgerblikket.selectors.usage import satisfaction_municipalities_for_citizen
from borgerblikket.services.usage import satisfaction_answer_record
from indexes.models import DataAccess
from overblik import acting, satisfaction, selectors
from overblik import session as keys
from overblik.auth import citizen_cpr, login_configured
from overblik.satisfaction import data_page
from overblik.services import acting_read_record

Page = UsageCount.PageKind

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
    """Only a logged-in citizen (with a CPR number in the session) gets past; others log in.

    The view gets ``cpr``: the citizen's own CPR number, or — while they act for someone
    else — ``Looking(who=…, whose=…)``, which the selectors restrict to the relation.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if citizen_cpr(request) is None:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return view(request, *args, cpr=acting.looking(request), **kwargs)

    return wrapper


def _cases_shown(cases) -> list[tuple[str, str]]:
    """(municipality, KLE number) of the cases a page shows, for the usage counters."""
    return [(case.municipality_id, case.kle_number) for case in cases]


def _benefits_shown(benefits) -> list[tuple[str, str]]:
    """(municipality, KLE number) of the benefits (or payments) a page shows."""
    return [(benefit.municipality_code, benefit.kle_number) for benefit in benefits]


def _log_acting(request, record_kind: str, subjects: list[str] | None = None) -> None:
    """While the citizen acts for someone else, log the read in both access logs: the
    principal's "Hvem har set mine data" and the citizen's own record (issue 15). Without
    named subjects, the relation's areas (none for all areas) say what it was about."""
    principal = acting.acting_principal(request)
    if principal is None:
        return
    if subjects is None:
        subjects = [] if principal.scope == ("*",) else acting.area_names(principal.scope)
    acting_read_record(
        who=citizen_cpr(request),
        who_name=request.session.get(keys.NAME, ""),
        principal=principal,
        record_kind=record_kind,
        subjects=subjects,
    )


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


def _since(request) -> datetime | None:
    """When the citizen's previous visit ended; what changed after it is marked new."""
    value = request.session.get(keys.SINCE)
    return datetime.fromisoformat(value) if value else None


@citizen_required
def overview(request, *, cpr):
    """Overblik: latest changed cases, latest payments, active services, exposed areas."""
    context = selectors.overview_for_citizen(cpr=cpr)
    _log_acting(request, DataAccess.RecordKind.ALL)
    shown = (
        _cases_shown(case for case, _wait in context["awaiting"])
        + _cases_shown(context["cases"])
        + _benefits_shown(context["payments"])
        + _benefits_shown(context["services"])
        + [(group.code, "") for group in context["areas"]]
    )
    return data_page(
        request,
        "overblik/overview.html",
        context | {"since": _since(request)},
        kind=Page.OVERVIEW,
        shown=shown,
    )


@citizen_required
def cases(request, *, cpr):
    """Sager: all the citizen's visible cases, newest change first, open/closed filter, pages."""
    which = request.GET.get("vis", "alle")
    if which not in selectors.CASE_FILTERS:
        which = "alle"
    queryset = selectors.cases_for_list(cpr=cpr, which=selectors.CASE_FILTERS[which])
    page = Paginator(queryset, settings.OVERBLIK_CASES_PER_PAGE).get_page(request.GET.get("side"))
    areas = selectors.areas_by_municipality(cpr=cpr)
    _log_acting(request, DataAccess.RecordKind.CASE)
    return data_page(
        request,
        "overblik/cases.html",
        {
            "page": page,
            "which": which,
            "filters": [
                ("alle", _("Alle")),
                ("aabne", _("Åbne")),
                ("afsluttede", _("Afsluttede")),
            ],
            "municipality_names": selectors.municipality_names(areas),
            "since": _since(request),
        },
        kind=Page.CASES,
        shown=_cases_shown(page.object_list),
    )


@citizen_required
def case(request, case_id: int, *, cpr):
    """One case: status, timeline, document titles, contact box, links, related benefits.

    Another citizen's case (or one the rules hide) is a plain 404.
    """
    context = selectors.case_page(cpr=cpr, case_id=case_id)
    if context is None:
        raise Http404
    case_ = context["case"]
    # A sensitive case whose title is withheld is logged by its KLE main group, not its emne.
    subject = case_.kle_subject.title
    if case_.title_withheld:
        subject = acting.main_group_name(case_.kle_subject.number)
    _log_acting(request, DataAccess.RecordKind.CASE, [subject])
    return data_page(
        request,
        "overblik/case.html",
        context | {"since": _since(request)},
        kind=Page.CASE,
        shown=_cases_shown([case_]),
    )


@citizen_required
def benefits(request, *, cpr):
    """Ydelser: economic benefits with payments by month, totals per year, the next payment."""
    _log_acting(request, DataAccess.RecordKind.BENEFIT)
    economic = selectors.economic_benefits_page(cpr=cpr)
    return data_page(
        request,
        "overblik/benefits.html",
        {"benefits": economic, "since": _since(request)},
        kind=Page.BENEFITS,
        shown=_benefits_shown(entry.benefit for entry in economic),
    )


@citizen_required
def services(request, *, cpr):
    """Serviceydelser og hjælpemidler: Navn, Bevilget fra, Bevilget til, Status, Detaljer."""
    _log_acting(request, DataAccess.RecordKind.BENEFIT)
    services_ = selectors.services_for_list(cpr=cpr)
    return data_page(
        request,
        "overblik/services.html",
        {"services": services_, "since": _since(request)},
        kind=Page.SERVICES,
        shown=_benefits_shown(services_),
    )


@citizen_required
def service(request, benefit_id: int, *, cpr):
    """One service or aid (seed 002's detail page); another citizen's is a plain 404."""
    context = selectors.service_page(cpr=cpr, benefit_id=benefit_id)
    if context is None:
        raise Http404
    service_ = context["service"]
    # A sensitive service whose name is withheld is logged by its KLE main group, as a case.
    subject = service_.kle_subject.title
    if service_.name_withheld:
        subject = acting.main_group_name(service_.kle_subject.number)
    _log_acting(request, DataAccess.RecordKind.BENEFIT, [subject])
    return data_page(
        request,
        "overblik/service.html",
        context,
        kind=Page.SERVICE,
        shown=_benefits_shown([context["service"]]),
    )


def municipalities(request):
    """Det viser kommunerne: every municipality (``?q=`` searches the names), public."""
    query = request.GET.get("q", "")
    return render(
        request,
        "overblik/municipalities.html",
        {"municipalities": bs.municipalities_with_exposure(query=query), "query": query},
    )


def municipality(request, code: str):
    """Det viser kommunen: the areas, from when and from which systems (public, seed 004)."""
    exposure = bs.municipality_exposure(municipality=code)
    if exposure is None:
        raise Http404
    return render(request, "overblik/municipality.html", {"exposure": exposure})


@citizen_required
def access_log(request, *, cpr):
    """Hvem har set mine data: who else read the citizen's data, newest first, in pages.

    Always the logged-in citizen's own log, also while they act for someone else.
    """
    own = citizen_cpr(request)
    page = selectors.data_access_page(cpr=own, number=request.GET.get("side"))
    seen = selectors.seen_for_others_page(cpr=own, number=request.GET.get("set"))
    # The portal's own log: no municipality's records, so it counts for none; and it is
    # the citizen's own, also while they act for someone else.
    return data_page(
        request,
        "overblik/access_log.html",
        {"page": page, "seen_for_others": seen},
        kind=Page.ACCESS_LOG,
        shown=[],
        on_behalf=False,
    )


@citizen_required
def acting_switch(request, *, cpr):
    """Du ser nu oplysninger for: choose whose data to see (oneself, a principal, a child).

    The form posts an opaque per-session handle, never a CPR number.
    """
    error = None
    if request.method == "POST":
        if acting.switch(request, request.POST.get("handle", "")):
            return redirect("overblik:overview")
        error = _("Vælg en af personerne på listen.")
    people, unavailable = acting.choices(request)
    current = acting.acting_principal(request)
    return render(
        request,
        "overblik/acting.html",
        {
            "people": people,
            "unavailable": unavailable,
            "current_cpr": current.cpr if current else None,
            "own_handle": acting.OWN,
            "error": error,
        },
        status=400 if error else 200,
    )


@require_POST
def satisfaction_answer(request):
    """The answer to "Var du tilfreds med dit besøg på Mit Overblik?" — or "Nej tak" —
    posted by the prompt (a plain form; with JavaScript "Nej tak" only hides the prompt).

    Stored without identity: the month, the municipality only when the citizen's data
    came from exactly one, the answer and the comment (CPR-shaped numbers masked). One
    answer per session: after it (or "Nej tak") a post changes nothing.
    """
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("overblik:overview")
    if citizen_cpr(request) is None:
        # The session ran out while the prompt was shown: log in, back to the page.
        return redirect_to_login(next_url, settings.LOGIN_URL)
    # The prompt's script says "Nej tak" in the background: no page back, only the step.
    background = request.POST.get("baggrund") == "1"
    response = HttpResponse(status=204) if background else redirect(next_url)
    if satisfaction.prompt_step(request) != satisfaction.SHOWN:
        return response
    if "nej-tak" in request.POST:
        satisfaction.prompt_step_set(request, response, satisfaction.DONE)
        return response
    form = satisfaction.SatisfactionForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "overblik/satisfaction.html",
            {"satisfaction_form": form, "satisfaction_next": next_url},
            status=400,
        )
    satisfaction_answer_record(
        answer=form.cleaned_data["svar"],
        comment=form.cleaned_data["kommentar"],
        municipality_codes=satisfaction_municipalities_for_citizen(cpr=acting.looking(request)),
    )
    satisfaction.prompt_step_set(request, response, satisfaction.ANSWERED)
    return response
