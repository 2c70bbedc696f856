"""Every admin form accepts the dates and times it shows, in Danish and in English.

Issue 11.9: the sheet row's form showed "Fradato for visning" as ``04.01.2020`` (Django's
Danish date format) but accepted only ``04-01-2020``, so the first save of an
unchanged row failed. The class: a form field whose input formats do not include the
format its widget renders. Each admin change form is opened as a browser would, its
values posted back unchanged, and the save must succeed — for every registered admin
the user may change, so a new admin with dates is covered the day it is registered.
"""

import datetime as dt

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from lxml import html

from borgerblikket.models import Membership, Sheet, SheetRow
from tests.borgerblikket import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

LANGUAGES = [code for code, _name in settings.LANGUAGES]
WHEN = timezone.make_aware(dt.datetime(2020, 1, 4, 9, 30, 15))


@pytest.fixture
def objects():
    """One object of every model whose admin may be changed (the seeded ones exist)."""
    odense = f.municipality("461")
    system = f.SourceSystemFactory(municipality=odense, name="FASIT", created_at=WHEN)
    f.SheetRowFactory(
        municipality=odense,
        kle_subject=f.kle_subject("32.24.04", "Hjælp til forsørgelse"),
        show_from=dt.date(2020, 1, 4),
        source_system=system,
        contact_department="Ydelseskontoret",
        contact_phone="66131372",
    )
    f.sheet("461")
    admin_user = f.municipal_admin("461", username="odense-admin")
    Membership.objects.filter(user=admin_user).update(created_at=WHEN)
    interval = IntervalSchedule.objects.create(every=10, period=IntervalSchedule.MINUTES)
    PeriodicTask.objects.create(
        name="demo",
        task="indexes.inbox_sweep",
        interval=interval,
        start_time=WHEN,
        expires=WHEN + dt.timedelta(days=400),
    )
    ClockedSchedule.objects.create(clocked_time=WHEN)
    CrontabSchedule.objects.create(minute="5", hour="4")
    SolarSchedule.objects.create(event="sunrise", latitude="55.40", longitude="10.38")
    get_user_model().objects.filter(pk=admin_user.pk).update(last_login=WHEN, date_joined=WHEN)
    from django.contrib.auth.models import Group

    Group.objects.create(name="Redaktører")
    from indexes.models import WebhookSubscription

    WebhookSubscription.objects.create(
        source_system=system, url="https://fasit.example.dk/hooks", created_at=WHEN
    )
    from borgerblikket.models import ApprovedKleNumber

    ApprovedKleNumber.objects.create(
        municipality=odense, source_system=system, unit="Ydelseskontoret", kle_number="32.24.04"
    )
    return {"admin_user": admin_user}


def _form_values(page: bytes, model) -> list[tuple[str, str]]:
    """What a browser submits from the admin's change form: every successful control."""
    document = html.fromstring(page)
    form = document.get_element_by_id(f"{model._meta.model_name}_form")
    return [*form.form_values(), ("_save", "Gem")]


def _errors(page: bytes) -> list[str]:
    document = html.fromstring(page)
    return [
        " ".join(node.text_content().split())
        for node in document.xpath(
            '//*[contains(@class, "errorlist") or contains(@class, "errornote")]'
        )
    ]


def _save_unchanged(client, model, obj, language: str):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    response = client.post(url, dict_of_lists(_form_values(page.content, model)))
    assert response.status_code == 302, (model._meta.label, language, _errors(response.content))
    return page


def dict_of_lists(pairs):
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


def _changeable(user) -> list:
    request = RequestFactory().get("/admin/")
    request.user = user
    return [
        model
        for model, model_admin in admin.site._registry.items()
        if model_admin.has_change_permission(request)
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_change_form_saves_unchanged_as_superuser(client, objects, language):
    user = get_user_model().objects.create_superuser("operator", "op@example.org", "pw")
    client.force_login(user)
    tried = []
    for model in _changeable(user):
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"add an object of {model._meta.label} to the fixture"
        _save_unchanged(client, model, obj, language)
        tried.append(model._meta.label)
    assert {"borgerblikket.SheetRow", "django_celery_beat.PeriodicTask", "auth.User"} <= set(tried)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_change_form_saves_unchanged_as_municipal_admin(client, objects, language):
    user = objects["admin_user"]
    client.force_login(user)
    tried = []
    for model in _changeable(user):
        obj = model._default_manager.filter(**_own(model)).order_by("pk").first()
        assert obj is not None, f"add an Odense object of {model._meta.label} to the fixture"
        _save_unchanged(client, model, obj, language)
        tried.append(model._meta.label)
    assert {"borgerblikket.SheetRow", "borgerblikket.Sheet", "indexes.SourceSystem"} <= set(tried)


def _own(model) -> dict:
    if model is get_user_model():
        return {"username": "odense-admin"}
    return {"municipality_id": "461"} if hasattr(model, "municipality_id") else {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sheet_rows_date_is_shown_as_the_sheet_writes_it(client, objects, language):
    """DD-MM-ÅÅÅÅ, as the sheet, the list and the export write it — in either language."""
    client.force_login(objects["admin_user"])
    row = SheetRow.objects.get(municipality_id="461")
    page = _save_unchanged(client, SheetRow, row, language)
    document = html.fromstring(page.content)
    assert document.get_element_by_id("id_show_from").value == "04-01-2020"
    row.refresh_from_db()
    assert row.show_from == dt.date(2020, 1, 4)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("04-01-2020", dt.date(2020, 1, 4)),
        ("04.01.2020", dt.date(2020, 1, 4)),  # Django's Danish format (the calendar widget's)
        ("4/1/2020", dt.date(2020, 1, 4)),
        ("2020-01-04", dt.date(2020, 1, 4)),  # ISO, English's first format
    ],
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sheet_rows_date_accepts_every_form_the_sheet_does(
    client, objects, typed, expected, language
):
    client.force_login(objects["admin_user"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    row = SheetRow.objects.get(municipality_id="461")
    url = reverse("admin:borgerblikket_sheetrow_change", args=[row.pk])
    values = dict_of_lists(_form_values(client.get(url).content, SheetRow))
    values["show_from"] = [typed]
    response = client.post(url, values)
    assert response.status_code == 302, _errors(response.content)
    row.refresh_from_db()
    assert row.show_from == expected


def test_a_date_that_is_no_date_names_the_field(client, objects):
    client.force_login(objects["admin_user"])
    row = SheetRow.objects.get(municipality_id="461")
    url = reverse("admin:borgerblikket_sheetrow_change", args=[row.pk])
    values = dict_of_lists(_form_values(client.get(url).content, SheetRow))
    values["show_from"] = ["31-02-2020"]
    response = client.post(url, values)
    assert response.status_code == 200
    assert "ikke en gyldig dato" in " ".join(response.context["adminform"].form.errors["show_from"])
    assert Sheet.objects.filter(municipality_id="461").exists()
