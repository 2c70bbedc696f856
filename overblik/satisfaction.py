"""Usage counting and the satisfaction prompt of the citizen pages (issue 16).

``data_page`` renders a page that shows the citizen's data: it adds one view to the usage
counters (one query: ``borgerblikket.services.usage.usage_count``) and decides whether the
prompt "Var du tilfreds med dit besøg på Mit Overblik?" (seed 002) is shown.

The prompt is shown once per session, on the data page after the first one. Where the
session is in that is kept in a signed cookie bound to the session key (a new login starts
over), not in the session itself: a page view never writes the session, so the page costs
no extra query. The cookie holds the step only ("seen", "shown", "answered", "done"),
never who the citizen is.
"""

from django import forms
from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from borgerblikket.models import SatisfactionAnswer
from borgerblikket.services.usage import usage_count
from overblik import acting

COOKIE = "overblik_tilfredshed"
SEEN = "seen"  # a data page was shown; the next one asks
SHOWN = "shown"  # the prompt was shown; it is not shown again
ANSWERED = "answered"  # the next page thanks, once
DONE = "done"


class SatisfactionForm(forms.Form):
    svar = forms.TypedChoiceField(
        label=_("Var du tilfreds med dit besøg på Mit Overblik?"),
        choices=sorted(SatisfactionAnswer.Answer.choices, reverse=True),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Vælg, hvor tilfreds du var.")},
    )
    kommentar = forms.CharField(
        label=_("Kommentar (frivillig)"),
        help_text=_(
            "Skriv ikke dit navn, CPR-nummer eller andre personlige oplysninger. "
            "Vi gemmer ikke, hvem du er."
        ),
        max_length=SatisfactionAnswer.COMMENT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "max_length": _("Kommentaren må højst være %(limit_value)d tegn."),
        },
    )


def _salt(request) -> str:
    return f"overblik.satisfaction:{request.session.session_key or ''}"


def prompt_step(request) -> str | None:
    """Where this session is with the prompt (None: no data page yet)."""
    return request.get_signed_cookie(COOKIE, default=None, salt=_salt(request))


def prompt_step_set(request, response, step: str) -> None:
    response.set_signed_cookie(
        COOKIE,
        step,
        salt=_salt(request),
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )


def data_page(
    request, template: str, context: dict, *, kind: str, shown, on_behalf: bool | None = None
):
    """Render a data page: count the view, ask (or thank) once per session.

    ``shown``: the (municipality code, KLE number) of the records the page shows;
    ``on_behalf``: whether they are someone else's (default: whether the citizen acts for
    someone now).
    """
    if settings.OVERBLIK_USAGE_COUNTING:
        if on_behalf is None:
            on_behalf = acting.acting_principal(request) is not None
        usage_count(page_kind=kind, shown=shown, on_behalf=on_behalf)
    step = prompt_step(request)
    following = {None: SEEN, SEEN: SHOWN, ANSWERED: DONE}.get(step)
    extra = {}
    if step == SEEN:
        extra["satisfaction_form"] = SatisfactionForm()
        extra["satisfaction_next"] = request.get_full_path()
    elif step == ANSWERED:
        extra["satisfaction_thanks"] = True
    response = render(request, template, context | extra)
    if following:
        prompt_step_set(request, response, following)
    return response
