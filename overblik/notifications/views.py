"""The citizen's notification pages: settings (with the sent messages) and unsubscribe.

Thin: forms check the input (an error names its field), services write.
"""

import re
from functools import wraps

from django import forms
from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from overblik import session as keys
from overblik.models import Channel, Language, NotificationMessage
from overblik.notifications import channels, preferences
from overblik.notifications.sending import messages_for_citizen
from overblik.views import citizen_required

TOPICS = (
    ("status", _("En sag skifter status")),
    ("awaiting", _("Kommunen venter på dig")),
    ("deadline", _("En frist nærmer sig")),
    ("document", _("Der kommer et nyt dokument i en sag")),
    ("payment", _("En udbetaling er foretaget eller ændret")),
)


class PreferencesForm(forms.Form):
    topics = forms.MultipleChoiceField(
        label=_("Giv mig besked, når"),
        choices=TOPICS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Vælg kun emner fra listen.")},
    )
    language = forms.ChoiceField(
        label=_("Sprog i beskederne"),
        choices=Language.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Vælg sproget i beskederne: dansk eller engelsk."),
            "invalid_choice": _("Vælg sproget i beskederne: dansk eller engelsk."),
        },
    )
    paused = forms.BooleanField(label=_("Sæt alle beskeder på pause"), required=False)


class EmailForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mailadresse"),
        max_length=254,
        error_messages={
            "required": _("Skriv din e-mailadresse."),
            "invalid": _("E-mailadressen er ikke gyldig, fx navn@eksempel.dk."),
        },
    )


class MobileForm(forms.Form):
    mobile = forms.CharField(
        label=_("Mobilnummer"),
        max_length=20,
        help_text=_("Et dansk mobilnummer med 8 cifre."),
        error_messages={"required": _("Skriv dit mobilnummer.")},
    )

    def clean_mobile(self):
        digits = re.sub(r"[\s-]", "", self.cleaned_data["mobile"])
        digits = digits.removeprefix("+45").removeprefix("0045")
        if not re.fullmatch(r"[2-9][0-9]{7}", digits):
            raise forms.ValidationError(_("Mobilnummeret skal være et dansk nummer med 8 cifre."))
        return digits


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Kode"),
        max_length=12,
        error_messages={"required": _("Skriv koden, vi har sendt dig.")},
    )

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        if not re.fullmatch(r"[0-9]{6}", code):
            raise forms.ValidationError(_("Koden er 6 cifre."))
        return code


def post_only(view):
    """A form's target: a GET (a reload, or the language switch returning to the page a
    form error left the browser on) goes back to the settings page instead of a 405."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "POST":
            return redirect("overblik:notifications")
        return view(request, *args, **kwargs)

    return wrapper


def _settings(request):
    return preferences.settings_for(citizen_id=request.session[keys.CITIZEN_ID])


def _page(request, settings, **forms_given):
    initial_topics = [t for t, f in preferences.TOPIC_FIELDS.items() if getattr(settings, f)]
    context = {
        "settings": settings,
        "preferences_form": forms_given.get("preferences_form")
        or PreferencesForm(
            initial={
                "topics": initial_topics,
                "language": settings.language,
                "paused": settings.paused,
            }
        ),
        "email_form": forms_given.get("email_form") or EmailForm(),
        "email_code_form": forms_given.get("email_code_form") or CodeForm(prefix="email"),
        "mobile_form": forms_given.get("mobile_form") or MobileForm(),
        "mobile_code_form": forms_given.get("mobile_code_form") or CodeForm(prefix="mobile"),
        "sent": messages_for_citizen(citizen_id=settings.citizen_id),
        "Status": NotificationMessage.Status,
    }
    status = 400 if forms_given else 200
    return render(request, "overblik/notifications.html", context, status=status)


@citizen_required
def notifications(request, *, cpr):
    """Beskeder: where and about what to be told, and what was sent."""
    return _page(request, _settings(request))


@citizen_required
@post_only
def preferences_save(request, *, cpr):
    settings = _settings(request)
    form = PreferencesForm(request.POST)
    if not form.is_valid():
        return _page(request, settings, preferences_form=form)
    preferences.preferences_save(
        settings=settings,
        topics=set(form.cleaned_data["topics"]),
        language=form.cleaned_data["language"],
        paused=form.cleaned_data["paused"],
    )
    flash.success(request, _("Dine indstillinger er gemt."))
    return redirect("overblik:notifications")


def _address_start(request, channel, form_class, field, form_key):
    settings = _settings(request)
    form = form_class(request.POST)
    if not form.is_valid():
        return _page(request, settings, **{form_key: form})
    try:
        preferences.address_start(
            settings=settings, channel=channel, address=form.cleaned_data[field]
        )
    except (channels.Transient, channels.HardBounce):
        form.add_error(field, _("Vi kunne ikke sende en kode lige nu. Prøv igen om lidt."))
        return _page(request, settings, **{form_key: form})
    flash.info(request, _("Vi har sendt dig en kode. Skriv den herunder."))
    return redirect("overblik:notifications")


def _address_confirm(request, channel, prefix, form_key):
    settings = _settings(request)
    form = CodeForm(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            preferences.address_confirm(
                settings=settings, channel=channel, code=form.cleaned_data["code"]
            )
        except preferences.CodeProblem as problem:
            form.add_error("code", str(problem))
    if not form.is_valid():
        return _page(request, settings, **{form_key: form})
    flash.success(request, _("Tak. Nu får du beskeder her."))
    return redirect("overblik:notifications")


@citizen_required
@post_only
def email_start(request, *, cpr):
    return _address_start(request, Channel.EMAIL, EmailForm, "email", "email_form")


@citizen_required
@post_only
def email_confirm(request, *, cpr):
    return _address_confirm(request, Channel.EMAIL, "email", "email_code_form")


@citizen_required
@post_only
def mobile_start(request, *, cpr):
    return _address_start(request, Channel.SMS, MobileForm, "mobile", "mobile_form")


@citizen_required
@post_only
def mobile_confirm(request, *, cpr):
    return _address_confirm(request, Channel.SMS, "mobile", "mobile_code_form")


@citizen_required
@post_only
def address_remove(request, channel: str, *, cpr):
    if channel not in (Channel.EMAIL, Channel.SMS):
        return redirect("overblik:notifications")
    preferences.address_remove(settings=_settings(request), channel=channel)
    flash.success(request, _("Du får ikke længere beskeder her."))
    return redirect("overblik:notifications")


@csrf_exempt  # RFC 8058: the mail client POSTs without a session; the token is signed
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """Afmeld: GET asks (a link scanner must not unsubscribe), POST unsubscribes at once."""
    if request.method == "POST":
        channel = preferences.unsubscribe(token=token)
        if channel is None:
            return render(request, "overblik/unsubscribe.html", {"invalid": True}, status=400)
        if "List-Unsubscribe" in request.POST and not request.POST.get("next"):
            return HttpResponse(status=200)  # a mail client's one-click request
        return render(request, "overblik/unsubscribe.html", {"done": True})
    return render(request, "overblik/unsubscribe.html", {"token": token})
