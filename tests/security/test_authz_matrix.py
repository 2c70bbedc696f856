"""The authorisation matrix: every URL pattern of the project, who may use it, and which test
proves that nobody else gets at another party's objects through it.

``url_patterns()`` walks ``get_resolver()`` (admin, the Borgerblikket admin pages, the DRF
API, the portal). ``MATRIX`` gives each pattern an ``Entry``: what an anonymous request gets,
and the object-level test below that covers it (citizen A vs citizen B, source system X vs
Y, municipal admin X vs Y). A pattern without an entry fails
``test_every_url_pattern_is_in_the_matrix``, so a new URL cannot ship without an authz test.

Object ids of another party answer exactly as an id that does not exist (404, the same
body): no existence leak. The data comes from the existing helpers: Kim's and Hans' portal
data (``tests/overblik/data.py``), the two-municipality admin world of
``tests/borgerblikket/test_admin_scoping.py`` and the API builders of
``tests/indexes/api_support.py``.
"""

import datetime as dt
import re
import uuid
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from borgerblikket.models import (
    ApprovedKleNumber,
    KleImpactItem,
    KleImpactReport,
    KleRelease,
    Membership,
    RetentionCount,
    RetentionRun,
    SatisfactionAnswer,
    Sheet,
    SheetChange,
    SheetImport,
    SheetRow,
    UsageCount,
)
from borgerblikket.services.sheet_io import HEADERS, sheet_import_start
from borgerblikket.services.usage import usage_count
from indexes.models import (
    ApiCredential,
    Case,
    CaseProgress,
    Change,
    DataAccess,
    InboxBatch,
    SourceSystem,
)
from indexes.services.credentials import credential_create
from kle.models import Publication, Subject, Succession
from overblik.models import NotificationSettings
from overblik.notifications.preferences import unsubscribe_token
from overblik.satisfaction import COOKIE as SATISFACTION_COOKIE
from overblik.services import citizen_get_or_create
from tests.borgerblikket import factories as f
from tests.borgerblikket.test_admin_scoping import FREDENSBORG, ODENSE, world  # noqa: F401
from tests.indexes import api_support as api
from tests.overblik import data as portal_data
from tests.plugins.portal import oidc_login

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

User = get_user_model()

# --- the URL patterns --------------------------------------------------------------------------


def _walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or ""
            ns = f"{namespace}:{inner}" if namespace and inner else (inner or namespace)
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            key = pattern.name or route
            yield (f"{namespace}:{key}" if namespace else key), route


_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def same_page(a, b) -> bool:
    """Two answers are the same page, but for the per-render mask of the CSRF token and the
    page's own path (the language switch returns to it)."""

    def strip(response):
        path = response.wsgi_request.path.encode()
        return _TOKEN.sub(b"", response.content).replace(path, b"<path>")

    return a.status_code == b.status_code and strip(a) == strip(b)


def url_patterns() -> dict[str, str]:
    """``namespace:name`` (or ``namespace:route`` when unnamed) → the full route."""
    return dict(_walk(get_resolver().url_patterns))


KINDS_SEGMENTS = ("cases", "documents", "grants", "payments")


def one_of_each(*, prefix: str, municipality: str) -> list[tuple[str, dict]]:
    """One record of each kind for a system of ``municipality`` (ids ``<prefix>-<segment>``)."""
    case = api.case_record(f"{prefix}-cases", municipality=municipality)
    grant = api.grant_record(f"{prefix}-grants", municipality=municipality)
    return [
        ("cases", case),
        (
            "documents",
            api.document_record(
                case["external_id"], f"{prefix}-documents", municipality=municipality
            ),
        ),
        ("grants", grant),
        (
            "payments",
            api.payment_record(
                grant["external_id"], f"{prefix}-payments", municipality=municipality
            ),
        ),
    ]


# --- the matrix ----------------------------------------------------------------------------------

# What an anonymous GET gets.
PUBLIC = "public"  # answers (2xx, or 503 from a health check), no login asked
PORTAL_LOGIN = "portal-login"  # 302 to the portal's login page
ADMIN_LOGIN = "admin-login"  # 302 to the admin login
API_401 = "api-401"  # 401 problem, WWW-Authenticate: Bearer
POST_ONLY = "post-only"  # 405 to a GET (logout: a POST with a CSRF token)
LOGIN_FLOW = "login-flow"  # a step of the MitID login: a redirect, never a page with data
REDIRECT = "redirect"  # 302 back to a page of the site (the language switch's GET)


@dataclass(frozen=True)
class Entry:
    anonymous: str
    # The test in this module that covers the pattern object by object.
    covered_by: str


def _entries(names, anonymous, covered_by):
    return {name: Entry(anonymous, covered_by) for name in names}


MATRIX: dict[str, Entry] = {
    # Health: open to monitors; status and counts, never personal data.
    **_entries(
        ["health-live", "health-ready", "health-status"],
        PUBLIC,
        "test_health_is_open_and_says_nothing_personal",
    ),
    # The portal.
    **_entries(
        [
            "overblik:home",
            "overblik:login",
            "overblik:login-failed",
            "overblik:logged-out",
            "overblik:municipalities",
            "overblik:municipality",
        ],
        PUBLIC,
        "test_public_portal_pages_show_no_citizen_data",
    ),
    "overblik:set_language": Entry(REDIRECT, "test_public_portal_pages_show_no_citizen_data"),
    "overblik:oidc-authenticate": Entry(
        LOGIN_FLOW, "test_login_flow_logs_nobody_in_without_the_broker"
    ),
    "overblik:oidc-callback": Entry(
        LOGIN_FLOW, "test_login_flow_logs_nobody_in_without_the_broker"
    ),
    "overblik:logout": Entry(POST_ONLY, "test_login_flow_logs_nobody_in_without_the_broker"),
    **_entries(
        [
            "overblik:overview",
            "overblik:cases",
            "overblik:benefits",
            "overblik:services",
            "overblik:access-log",
        ],
        PORTAL_LOGIN,
        "test_citizen_lists_show_only_the_citizens_own",
    ),
    **_entries(
        ["overblik:case", "overblik:service"],
        PORTAL_LOGIN,
        "test_another_citizens_object_is_the_same_404_as_none",
    ),
    # Acting for someone else (issue 15): an opaque per-session handle, POSTed.
    "overblik:acting": Entry(PORTAL_LOGIN, "test_a_holder_reaches_only_the_principals_areas"),
    # The satisfaction prompt (issue 16): a POSTed form, the session's own step only.
    "overblik:satisfaction": Entry(
        POST_ONLY, "test_a_satisfaction_answer_counts_only_for_the_session_that_was_asked"
    ),
    # Notifications (issue 14): no ids in the routes, the session's citizen only.
    **_entries(
        [
            "overblik:notifications",
            "overblik:notifications-save",
            "overblik:notifications-email",
            "overblik:notifications-email-confirm",
            "overblik:notifications-mobile",
            "overblik:notifications-mobile-confirm",
            "overblik:notifications-remove",
        ],
        PORTAL_LOGIN,
        "test_notification_settings_are_only_the_own_citizens",
    ),
    # One-click unsubscribe (RFC 8058): public, the signed token is the authority.
    "overblik:unsubscribe": Entry(
        PUBLIC, "test_an_unsubscribe_token_acts_only_on_the_settings_it_names"
    ),
    # The index API (bearer keys of source systems only).
    **_entries(
        [f"indexes:{s}-list" for s in KINDS_SEGMENTS],
        API_401,
        "test_api_lists_hold_only_the_systems_own_records",
    ),
    **_entries(
        [f"indexes:{s}-detail" for s in KINDS_SEGMENTS],
        API_401,
        "test_another_systems_record_is_the_same_404_as_none",
    ),
    "indexes:batch-create": Entry(API_401, "test_another_systems_batch_is_the_same_404_as_none"),
    "indexes:batch-detail": Entry(API_401, "test_another_systems_batch_is_the_same_404_as_none"),
    **_entries(
        ["indexes:sf1470-import", "indexes:sf1470-remove", "indexes:yi-import"],
        API_401,
        "test_an_xml_delivery_acts_only_as_the_callers_own_system",
    ),
    # The API's contract is public (no data in it).
    "indexes:schema": Entry(PUBLIC, "test_api_docs_are_open_and_data_free"),
    "indexes:docs": Entry(PUBLIC, "test_api_docs_are_open_and_data_free"),
    # The admin site's own pages.
    "admin-login": Entry(PUBLIC, "test_admin_login_is_the_rate_limited_view"),
    "admin:login": Entry(PUBLIC, "test_admin_login_is_the_rate_limited_view"),
    "admin:logout": Entry(ADMIN_LOGIN, "test_admin_site_pages_need_staff"),
    **_entries(
        [
            "admin:index",
            "admin:password_change",
            "admin:password_change_done",
            "admin:jsi18n",
            "admin:app_list",
            "admin:admin/(?P<url>.*)$",
            "admin:view_on_site",
        ],
        ADMIN_LOGIN,
        "test_admin_site_pages_need_staff",
    ),
    "admin:autocomplete": Entry(ADMIN_LOGIN, "test_autocomplete_offers_only_the_own_municipality"),
    # Borgerblikket's admin pages.
    "borgerblikket_admin:preview": Entry(ADMIN_LOGIN, "test_preview_only_for_the_own_municipality"),
    "borgerblikket_admin:rollout": Entry(
        ADMIN_LOGIN, "test_rollout_shows_a_municipality_only_its_own_position"
    ),
    "borgerblikket_admin:rollout_csv": Entry(
        ADMIN_LOGIN, "test_rollout_csv_holds_only_the_own_municipalitys_row"
    ),
    "borgerblikket_admin:conformance": Entry(
        ADMIN_LOGIN, "test_conformance_of_another_municipalitys_system_is_the_same_404_as_none"
    ),
    **_entries(
        ["borgerblikket_admin:usage", "borgerblikket_admin:satisfaction"],
        ADMIN_LOGIN,
        "test_usage_and_satisfaction_show_a_municipality_only_its_own",
    ),
    "indexes:events": Entry(API_401, "test_the_events_cursor_holds_only_the_callers_events"),
    "borgerblikket_api:conformance": Entry(
        API_401, "test_the_conformance_api_reports_the_callers_own_system"
    ),
    **_entries(
        [
            "borgerblikket_admin:quality_index",
            "borgerblikket_admin:quality",
            "borgerblikket_admin:quality_check",
            "borgerblikket_admin:quality_invisible",
            "borgerblikket_admin:quality_rejections",
            "borgerblikket_admin:quality_trend",
        ],
        ADMIN_LOGIN,
        "test_quality_reports_of_another_municipality_are_the_same_404_as_none",
    ),
    # Model admins' own extra views.
    **_entries(
        [
            "admin:borgerblikket_sheetrow_import",
            "admin:borgerblikket_sheetrow_import_confirm",
            "admin:borgerblikket_sheetrow_export",
        ],
        ADMIN_LOGIN,
        "test_sheet_import_and_export_only_for_the_own_municipality",
    ),
    "admin:borgerblikket_sheetchange_revert": Entry(
        ADMIN_LOGIN, "test_reverting_another_municipalitys_change_is_404"
    ),
    "admin:borgerblikket_kleimpactreport_move": Entry(
        ADMIN_LOGIN, "test_moving_another_municipalitys_kle_row_is_404"
    ),
    "admin:borgerblikket_retentioncount_preview": Entry(
        ADMIN_LOGIN, "test_retention_preview_only_for_the_own_municipality"
    ),
    "admin:borgerblikket_approvedklenumber_import": Entry(
        ADMIN_LOGIN, "test_approved_kle_import_only_into_the_own_municipality"
    ),
    "admin:auth_user_password_change": Entry(ADMIN_LOGIN, "test_operator_and_permission_models"),
    # API keys: operators only (tests/indexes/test_admin_keys.py has the whole flow).
    **_entries(
        ["admin:indexes_apicredential_rotate", "admin:indexes_apicredential_revoke"],
        ADMIN_LOGIN,
        "test_api_keys_are_for_operators_only",
    ),
}

# Every registered ModelAdmin: how a municipal admin is scoped there. Its six generated
# patterns (changelist, add, change, history, delete, the bare-id redirect) are covered by
# the test named for the policy.
SCOPED = "test_scoped_model_admins_show_only_the_own_municipality"
OPERATOR = "test_operator_and_permission_models"
# model label → (policy test, key of the object in the admin world, or None)
ADMIN_MODELS: dict[str, tuple[str, str | None]] = {
    "borgerblikket.sheetrow": (SCOPED, "row"),
    "borgerblikket.sheet": (SCOPED, "sheet"),
    "borgerblikket.sheetchange": (SCOPED, "change"),
    "borgerblikket.kleimpactreport": (SCOPED, "impact_report"),
    "borgerblikket.retentioncount": (SCOPED, "retention_count"),
    "borgerblikket.approvedklenumber": (SCOPED, "approved_kle"),
    "indexes.municipality": (SCOPED, "municipality"),
    "indexes.sourcesystem": (SCOPED, "system"),
    "indexes.case": (SCOPED, "case"),
    "indexes.document": (SCOPED, "document"),
    "indexes.grant": (SCOPED, "grant"),
    "indexes.grantedbenefit": (SCOPED, "benefit"),
    "indexes.payment": (SCOPED, "payment"),
    "indexes.change": (SCOPED, "record_change"),
    "indexes.dataaccess": (SCOPED, "access"),
    # Operators (superusers) only: municipal admins get 403 on every page, existing id or not.
    "borgerblikket.membership": (OPERATOR, "membership"),
    "borgerblikket.mandatoryklenumber": (OPERATOR, None),
    "borgerblikket.rolloutstage": (OPERATOR, None),
    "borgerblikket.titleabbreviation": (OPERATOR, None),
    "borgerblikket.titleleadword": (OPERATOR, None),
    "borgerblikket.klerelease": (OPERATOR, None),
    "borgerblikket.retentionrun": (OPERATOR, None),
    # Django model permissions (none are given to municipal admins).
    "auth.user": (OPERATOR, "user"),
    "auth.group": (OPERATOR, None),
    "django_celery_beat.periodictask": (OPERATOR, None),
    "django_celery_beat.clockedschedule": (OPERATOR, None),
    "django_celery_beat.crontabschedule": (OPERATOR, None),
    "django_celery_beat.solarschedule": (OPERATOR, None),
    "django_celery_beat.intervalschedule": (OPERATOR, None),
    "kle.subject": (OPERATOR, None),
    "kle.facetcategory": (OPERATOR, None),
    "kle.facet": (OPERATOR, None),
    "kle.publication": (OPERATOR, None),
    "kle.syncsource": (OPERATOR, None),
    "indexes.sourcefeed": (OPERATOR, None),
    "indexes.feedpoll": (OPERATOR, None),
    "indexes.feedrejection": (OPERATOR, None),
    "indexes.inboxbatch": (OPERATOR, None),
    "indexes.apicredential": (OPERATOR, None),
    "indexes.webhooksubscription": (OPERATOR, None),
    "indexes.webhookdelivery": (OPERATOR, None),
}
MODEL_VIEWS = ("changelist", "add", "history", "delete", "change")


def _model_admin_entry(key: str, route: str) -> Entry | None:
    """The entry of a pattern a registered ModelAdmin generated, else None."""
    for model in admin.site._registry:
        label = model._meta.label_lower
        app, name = model._meta.app_label, model._meta.model_name
        generated = {f"admin:{app}_{name}_{view}" for view in MODEL_VIEWS}
        if key in generated or route == f"admin/{app}/{name}/<path:object_id>/":
            if label in ADMIN_MODELS:
                return Entry(ADMIN_LOGIN, ADMIN_MODELS[label][0])
            return None
    return None


def entry_for(key: str, route: str) -> Entry | None:
    return MATRIX.get(key) or _model_admin_entry(key, route)


def test_every_url_pattern_is_in_the_matrix():
    patterns = url_patterns()
    missing = sorted(
        f"{key} ({route})" for key, route in patterns.items() if not entry_for(key, route)
    )
    assert missing == [], "URL patterns without an authorisation entry (add them to MATRIX)"
    assert len(patterns) > 200  # the walk reached the admin's and the API's patterns


def test_a_new_url_without_an_entry_is_caught(settings):
    settings.ROOT_URLCONF = "tests.security.urls_unlisted"
    patterns = url_patterns()
    assert patterns["new-page"] == "ny-side/<int:pk>/"
    missing = [key for key, route in patterns.items() if not entry_for(key, route)]
    assert missing == ["new-page"]


def test_the_matrix_names_only_existing_patterns_models_and_tests():
    patterns = url_patterns()
    assert sorted(set(MATRIX) - set(patterns)) == []
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert sorted(set(ADMIN_MODELS) - registered) == []
    assert registered - set(ADMIN_MODELS) == set(), "a registered ModelAdmin has no policy"
    tests = {name for name in globals() if name.startswith("test_")}
    named = {e.covered_by for e in MATRIX.values()} | {p for p, _ in ADMIN_MODELS.values()}
    assert sorted(named - tests) == []


# --- anonymous: every pattern --------------------------------------------------------------------

_SAMPLES = [
    (r"<path:object_id>", "1"),
    (r"<path:content_type_id>", "1"),
    (r"<uuid:[a-z_]+>", "5b0c6f3e-9a31-4c61-9a53-3c1f5b8e2d10"),
    (r"<int:[a-z_]+>", "1"),
    (r"<str:code>", ODENSE),
    (r"<kommune:code>", ODENSE),
    (r"<str:[a-z_]+>", "x"),
    (r"<path:external_id>", "x-1"),
    (r"<id>", "1"),
]


def sample_path(route: str) -> str:
    """A concrete path for a route (ids that may or may not exist; it must not matter)."""
    if route == "admin/(?P<url>.*)$":
        return "/admin/nothing-here/"
    if route.startswith("admin/^(?P<app_label>"):
        return "/admin/indexes/"
    path = route
    for pattern, value in _SAMPLES:
        path = re.sub(pattern, value, path)
    return "/" + path


@pytest.mark.parametrize("key", sorted(url_patterns()))
def test_anonymous_gets_no_data_and_no_object_answer(client, key):
    route = url_patterns()[key]
    entry = entry_for(key, route)
    assert entry is not None, f"{key} is not in the matrix"
    path = sample_path(route)
    response = client.get(path)
    location = response.get("Location", "")
    if entry.anonymous == PUBLIC:
        assert response.status_code in (200, 503), (path, response.status_code)
    elif entry.anonymous == PORTAL_LOGIN:
        assert response.status_code == 302 and location.startswith(reverse("overblik:login"))
    elif entry.anonymous == ADMIN_LOGIN:
        assert response.status_code == 302, (path, response.status_code)
        assert location.startswith(reverse("admin:login")) or location == reverse("admin:index")
    elif entry.anonymous == API_401:
        assert response.status_code == 401, (path, response.status_code)
        assert response["WWW-Authenticate"].startswith("Bearer")
    elif entry.anonymous == POST_ONLY:
        assert response.status_code == 405
    elif entry.anonymous == REDIRECT:
        assert response.status_code == 302 and location.startswith("/")
        assert not location.startswith("//")
    elif entry.anonymous == LOGIN_FLOW:
        assert response.status_code == 302
        assert not location.startswith(("/overblik", "/sager", "/ydelser", "/serviceydelser"))
    else:  # pragma: no cover - a typo in the matrix
        pytest.fail(f"unknown expectation {entry.anonymous}")
    # Nobody is logged in by it.
    assert "_auth_user_id" not in client.session


# --- portal: citizen A vs citizen B --------------------------------------------------------------

KIM_MARKERS = ("Ansøgning om kontanthjælp", "Rengøring (FSIII)", "kontrol af, hvad du kan se")
HANS_MARKERS = (
    "Hans' sag om boligstøtte",
    "Hans&#x27; sag om boligstøtte",
    "Hans' hjemmehjælp",
    "Hans&#x27; hjemmehjælp",
    "Hans' henvendelse",
    "Hans&#x27; henvendelse",
)


@pytest.fixture
def portal(db, oidc_settings):
    """Kim's data (with Hans' case and benefit beside it) and a client logged in as each."""
    data = portal_data.build()
    kim, hans = Client(), Client()
    assert oidc_login(kim, sub="demo-kim").status_code == 302
    assert oidc_login(hans, sub="demo-hans").status_code == 302
    return data, kim, hans


def test_public_portal_pages_show_no_citizen_data(portal):
    data, _kim, _hans = portal
    anonymous = Client()
    public = [
        reverse(name)
        for name in (
            "overblik:home",
            "overblik:login",
            "overblik:login-failed",
            "overblik:logged-out",
            "overblik:municipalities",
        )
    ] + [reverse("overblik:municipality", args=[code]) for code in ("461", "101")]
    for url in public:
        body = anonymous.get(url).content.decode()
        assert not any(m in body for m in KIM_MARKERS + HANS_MARKERS)
        assert data.cases[0].party_cpr not in body
    # The language switch keeps nobody's data and sends nobody off-site.
    response = anonymous.post(
        reverse("overblik:set_language"), {"language": "en", "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_login_flow_logs_nobody_in_without_the_broker(portal, oidc_settings):
    anonymous = Client()
    start = anonymous.get(reverse("overblik:oidc-authenticate"))
    assert start.status_code == 302
    assert start["Location"].startswith(oidc_settings.OIDC_OP_AUTHORIZATION_ENDPOINT)
    # A callback with a made-up code and state (or another session's state) logs nobody in.
    state = re.search(r"state=([^&]+)", start["Location"]).group(1)
    for query in (f"code=made-up&state={state}", "code=made-up&state=other", ""):
        response = Client().get(f"{reverse('overblik:oidc-callback')}?{query}")
        assert response.status_code == 302
        assert response["Location"] == reverse("overblik:login-failed")
    response = anonymous.get(f"{reverse('overblik:oidc-callback')}?code=made-up&state={state}")
    assert response["Location"] == reverse("overblik:login-failed")
    assert "_auth_user_id" not in anonymous.session
    assert anonymous.get(reverse("overblik:overview")).status_code == 302
    # Logging out is a POST; an anonymous POST (with a token) harms nothing.
    assert anonymous.post(reverse("overblik:logout")).status_code == 302
    _data, kim, _hans = portal
    assert kim.get(reverse("overblik:logout")).status_code == 405
    assert kim.get(reverse("overblik:overview")).status_code == 200


@pytest.mark.parametrize(
    "name",
    [
        "overblik:overview",
        "overblik:cases",
        "overblik:benefits",
        "overblik:services",
        "overblik:access-log",
    ],
)
def test_citizen_lists_show_only_the_citizens_own(portal, client, name):
    _data, kim, hans = portal
    url = reverse(name)
    kim_body = kim.get(url).content.decode()
    hans_body = hans.get(url).content.decode()
    assert not any(m in kim_body for m in HANS_MARKERS), name
    assert not any(m in hans_body for m in KIM_MARKERS), name
    # A staff user (no CPR in the session) is no citizen.
    client.force_login(f.municipal_admin(ODENSE))
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("overblik:login")
    )


def test_a_satisfaction_answer_counts_only_for_the_session_that_was_asked(portal):
    """The answer acts on the poster's own session: Hans, never asked, stores nothing (not
    with Kim's prompt cookie either); Kim's answer names neither of them."""
    _data, kim, hans = portal
    for client in (kim, hans):
        client.get(reverse("overblik:overview"))
    kim.get(reverse("overblik:cases"))  # Kim is asked; Hans is not
    url = reverse("overblik:satisfaction")
    assert hans.post(url, {"svar": "1", "kommentar": "Hans"}).status_code == 302
    hans.cookies[SATISFACTION_COOKIE] = kim.cookies[SATISFACTION_COOKIE].value
    assert hans.post(url, {"svar": "1", "kommentar": "Hans"}).status_code == 302
    assert not SatisfactionAnswer.objects.exists()
    assert kim.post(url, {"svar": "5", "kommentar": "Kim"}).status_code == 302
    answer = SatisfactionAnswer.objects.get()
    assert (answer.answer, answer.comment) == (5, "Kim")
    stored = " ".join(str(v) for v in SatisfactionAnswer.objects.values_list()[0])
    assert portal_data.KIM.cpr not in stored and portal_data.HANS.cpr not in stored


def test_a_holder_reaches_only_the_principals_areas(portal, relations):
    """Sofie holds a power of attorney from Kim for his cleaning help (27.24) only: she
    reaches that, never his other areas, never another family's child or Hans' data, and
    nothing by guessing handles."""
    data, _kim, hans = portal
    relations.powers[0]["scope"] = ["27.24"]
    sofie = Client()
    assert oidc_login(sofie, sub="demo-sofie").status_code == 302
    switcher = sofie.get(reverse("overblik:acting")).content.decode()
    handles = re.findall(r'name="handle" value="([^"]+)"', switcher)
    assert len(handles) == 2 and "Emil Hansen" not in switcher  # Hans' child is not hers
    # Guessed handles, CPR numbers and Hans' own handles change nothing.
    hans_handles = re.findall(
        r'name="handle" value="([^"]+)"', hans.get(reverse("overblik:acting")).content.decode()
    )
    for guess in ("x" * 16, portal_data.KIM.cpr, portal_data.HANS.cpr, *hans_handles[1:]):
        assert sofie.post(reverse("overblik:acting"), {"handle": guess}).status_code == 400
    assert sofie.get(reverse("overblik:service", args=[data.service.pk])).status_code == 404
    assert sofie.post(reverse("overblik:acting"), {"handle": handles[1]}).status_code == 302
    # In scope: Kim's cleaning service; out of scope: his kontanthjælp case, the same 404
    # as a case that does not exist; Hans' records stay his.
    assert sofie.get(reverse("overblik:service", args=[data.service.pk])).status_code == 200
    missing = Case.objects.order_by("-pk").first().pk + 1000
    outside = sofie.get(reverse("overblik:case", args=[data.cases[0].pk]))
    none = sofie.get(reverse("overblik:case", args=[missing]))
    assert outside.status_code == none.status_code == 404
    assert same_page(outside, none)
    assert sofie.get(reverse("overblik:case", args=[data.others_case.pk])).status_code == 404
    assert sofie.get(reverse("overblik:service", args=[data.others_benefit.pk])).status_code == 404
    # Anonymous: the login page.
    response = Client().get(reverse("overblik:acting"))
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("overblik:login")
    )


def _settings_of(person) -> NotificationSettings:
    citizen = citizen_get_or_create(cpr=person.cpr)
    settings, _ = NotificationSettings.objects.update_or_create(
        citizen=citizen,
        defaults={
            "email": f"{person.name.split()[0].lower()}@example.dk",
            "email_confirmed_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        },
    )
    return settings


def test_notification_settings_are_only_the_own_citizens(portal, relations):
    """The settings pages carry no ids: every form acts on the logged-in citizen's own
    settings. Kim's saves and removals leave Hans' alone, neither sees the other's address,
    and a holder acting for Kim still sees and changes only her own."""
    _data, kim, hans = portal
    hans_settings = _settings_of(portal_data.HANS)
    kim_settings = _settings_of(portal_data.KIM)
    assert "hans@example.dk" not in kim.get(reverse("overblik:notifications")).content.decode()
    assert "kim@example.dk" not in hans.get(reverse("overblik:notifications")).content.decode()
    saved = kim.post(reverse("overblik:notifications-save"), {"language": "en", "paused": "on"})
    assert saved.status_code == 302
    removed = kim.post(reverse("overblik:notifications-remove", args=["email"]))
    assert removed.status_code == 302
    hans_settings.refresh_from_db()
    kim_settings.refresh_from_db()
    assert (kim_settings.paused, kim_settings.channel_active("email")) == (True, False)
    assert (hans_settings.paused, hans_settings.channel_active("email")) == (False, True)
    # Sofie, holding Kim's power of attorney, acting for him: her own settings only.
    sofie = Client()
    assert oidc_login(sofie, sub="demo-sofie").status_code == 302
    handles = re.findall(
        r'name="handle" value="([^"]+)"', sofie.get(reverse("overblik:acting")).content.decode()
    )
    assert sofie.post(reverse("overblik:acting"), {"handle": handles[1]}).status_code == 302
    kim_settings.email, kim_settings.email_confirmed_at = "kim@example.dk", timezone.now()
    kim_settings.save()
    page = sofie.get(reverse("overblik:notifications")).content.decode()
    assert "kim@example.dk" not in page
    sofie.post(reverse("overblik:notifications-remove", args=["email"]))
    kim_settings.refresh_from_db()
    assert kim_settings.channel_active("email")


def test_an_unsubscribe_token_acts_only_on_the_settings_it_names(client, portal):
    """A signed token names one citizen's settings and channel: a forged token, a token
    with another settings id spliced in, or one for a channel that does not exist is the
    same 400 as garbage, and changes nothing; Kim's real token stops only Kim's e-mail."""
    kim_settings, hans_settings = _settings_of(portal_data.KIM), _settings_of(portal_data.HANS)
    token = unsubscribe_token(settings_id=kim_settings.pk, channel="email")
    signature = token.split(":", 1)[1]
    spliced = unsubscribe_token(settings_id=hans_settings.pk, channel="email").split(":", 1)[0]
    bad_tokens = [
        "garbage",
        f"{spliced}:{signature}",
        unsubscribe_token(settings_id=hans_settings.pk, channel="fax"),
        token[:-1] + ("A" if token[-1] != "A" else "B"),
    ]
    answers = [client.post(f"/beskeder/afmeld/{bad}/") for bad in bad_tokens]
    assert {answer.status_code for answer in answers} == {400}
    assert all(same_page(answer, answers[0]) for answer in answers)
    hans_settings.refresh_from_db()
    kim_settings.refresh_from_db()
    assert hans_settings.channel_active("email") and kim_settings.channel_active("email")
    assert client.post(f"/beskeder/afmeld/{token}/").status_code == 200
    hans_settings.refresh_from_db()
    kim_settings.refresh_from_db()
    assert hans_settings.channel_active("email") and not kim_settings.channel_active("email")


def test_another_citizens_object_is_the_same_404_as_none(portal):
    data, kim, hans = portal
    missing_case = Case.objects.order_by("-pk").first().pk + 1000
    missing_benefit = data.others_benefit.pk + 1000
    for name, kims, hans_own, missing in (
        ("overblik:case", data.cases[0].pk, data.others_case.pk, missing_case),
        ("overblik:service", data.service.pk, data.others_benefit.pk, missing_benefit),
    ):
        # Each sees their own ...
        assert kim.get(reverse(name, args=[kims])).status_code == 200
        assert hans.get(reverse(name, args=[hans_own])).status_code == 200
        # ... and the other's id answers exactly as an id that does not exist.
        for client, other in ((kim, hans_own), (hans, kims)):
            theirs = client.get(reverse(name, args=[other]))
            none = client.get(reverse(name, args=[missing]))
            assert theirs.status_code == none.status_code == 404
            assert same_page(theirs, none)
        # Anonymous: the login page, whatever the id.
        anonymous = Client()
        for pk in (kims, missing):
            response = anonymous.get(reverse(name, args=[pk]))
            assert response.status_code == 302
            assert (
                response["Location"]
                == f"{reverse('overblik:login')}?next={reverse(name, args=[pk])}"
            )
    # Nothing of this was logged as a read by someone else.
    assert not DataAccess.objects.exclude(
        Q(detail="odense-admin") | Q(subject="Hans' henvendelse")
    ).exists()


def test_health_is_open_and_says_nothing_personal(portal):
    data, _kim, _hans = portal
    for name in ("health-live", "health-ready", "health-status"):
        response = Client().get(reverse(name))
        assert response.status_code in (200, 503)
        body = response.content.decode()
        assert data.cases[0].party_cpr not in body and not re.search(r"\d{6}-?\d{4}", body)


# --- the API: source system X vs Y ---------------------------------------------------------------


@pytest.fixture
def systems(db):
    """Odense's and København's systems, each with a case, document, grant and payment."""
    api.kle_minimal()
    own = SourceSystem.objects.create(
        municipality=api.municipality_ensure("461"), product="SBSYS", name="SBSYS Odense"
    )
    other = SourceSystem.objects.create(
        municipality=api.municipality_ensure("101"), product="SBSYS", name="SBSYS Kbh"
    )
    clients = {}
    for system, code in ((own, "461"), (other, "101")):
        client = api.client_for(system)
        clients[code] = client
        for segment, record in one_of_each(prefix=f"m{code}", municipality=code):
            response = client.put(
                f"/api/v1/{segment}/{record['external_id']}", record, format="json"
            )
            assert response.status_code == 201, response.content
    DataAccess.objects.all().delete()
    return clients


def test_api_lists_hold_only_the_systems_own_records(systems, admin_user):
    cookie = Client()
    cookie.force_login(admin_user)
    for segment in KINDS_SEGMENTS:
        for code, client in systems.items():
            response = client.get(f"/api/v1/{segment}")
            assert response.status_code == 200
            ids = {r["external_id"] for r in response.json()["results"]}
            assert ids and all(i.startswith(f"m{code}-") for i in ids), (segment, ids)
        # A browser session (even a superuser's) is no API credential.
        assert cookie.get(f"/api/v1/{segment}").status_code == 401


def test_another_systems_record_is_the_same_404_as_none(systems):
    odense, kbh = systems["461"], systems["101"]
    for segment in KINDS_SEGMENTS:
        theirs_id = f"m461-{segment}"
        assert odense.get(f"/api/v1/{segment}/{theirs_id}").status_code == 200
        theirs = kbh.get(f"/api/v1/{segment}/{theirs_id}")
        none = kbh.get(f"/api/v1/{segment}/m461-does-not-exist")
        assert theirs.status_code == none.status_code == 404
        assert theirs.json()["title"] == none.json()["title"]
        assert "ETag" not in theirs
        header = {"HTTP_SOURCE_TIMESTAMP": "2030-01-01T10:00:00+01:00"}
        assert kbh.delete(f"/api/v1/{segment}/{theirs_id}", **header).status_code == 404
        assert odense.get(f"/api/v1/{segment}/{theirs_id}").status_code == 200
    # København read nothing of Odense's, so no citizen sees a read by it.
    assert not DataAccess.objects.filter(source_system__municipality_id="101").exists()


def test_another_systems_batch_is_the_same_404_as_none(systems, admin_user):
    odense, kbh = systems["461"], systems["101"]
    response = odense.post("/api/v1/batches", {"records": []}, format="json")
    batch_id = response.json()["id"] if response.status_code in (200, 201, 202) else None
    if batch_id is None:
        record = api.case_record("m461-batch")
        response = odense.post(
            "/api/v1/batches", {"records": [{"kind": "case", "record": record}]}, format="json"
        )
        assert response.status_code in (201, 202), response.content
        batch_id = response.json()["id"]
    assert odense.get(f"/api/v1/batches/{batch_id}").status_code == 200
    theirs = kbh.get(f"/api/v1/batches/{batch_id}")
    none = kbh.get(f"/api/v1/batches/{uuid.uuid4()}")
    assert theirs.status_code == none.status_code == 404
    assert theirs.json()["title"] == none.json()["title"]
    # A cookie session cannot write through the API, with or without a CSRF token.
    cookie = Client(enforce_csrf_checks=True)
    cookie.force_login(admin_user)
    before = InboxBatch.objects.count()
    response = cookie.post("/api/v1/batches", {"records": []}, content_type="application/json")
    assert response.status_code in (401, 403)
    assert InboxBatch.objects.count() == before


def test_an_xml_delivery_acts_only_as_the_callers_own_system(systems, admin_user):
    """SF1470/YI XML: records land in the caller's own system and municipality; another
    system's case cannot be removed (the same 404 as none); a cookie cannot post."""
    from tests.indexes.test_api_sf1470 import CASE_ID, FJERN, sample

    odense, kbh = systems["461"], systems["101"]
    url = reverse("indexes:sf1470-import")
    # The XML names no municipality: each record is the posting installation's own.
    for client, code in ((kbh, "101"), (odense, "461")):
        response = client.post(url, data=sample().encode(), content_type="application/xml")
        assert response.status_code == 202, response.content
        batch = InboxBatch.objects.get(pk=response.json()["id"])
        assert batch.source_system.municipality_id == code
        assert {r.payload["municipality"] for r in batch.records.all()} == {code}
    assert kbh.get(f"/api/v1/batches/{batch.pk}").status_code == 404
    remove = reverse("indexes:sf1470-remove")
    header = {"HTTP_SOURCE_TIMESTAMP": "2030-01-01T10:00:00+01:00"}
    for path in (remove, f"{remove}?dry_run=true"):
        theirs = kbh.post(
            path, data=FJERN.format(id=CASE_ID).encode(), content_type="application/xml", **header
        )
        assert theirs.status_code == 404
    cookie = Client(enforce_csrf_checks=True)
    cookie.force_login(admin_user)
    for name in ("indexes:sf1470-import", "indexes:sf1470-remove", "indexes:yi-import"):
        before = InboxBatch.objects.count()
        response = cookie.post(reverse(name), data=b"<x/>", content_type="application/xml")
        assert response.status_code in (401, 403)
        assert InboxBatch.objects.count() == before


def test_api_docs_are_open_and_data_free(systems):
    for name in ("indexes:schema", "indexes:docs"):
        response = APIClient().get(reverse(name))
        assert response.status_code == 200
        assert "m461-" not in response.content.decode()


# --- the admin: municipal admin X vs Y -----------------------------------------------------------


@pytest.fixture
def admin_world(world):  # noqa: F811 - the fixture imported from test_admin_scoping
    """The two municipalities' world plus the objects every scoped admin lists."""
    for code in (ODENSE, FREDENSBORG):
        mine = world[code]
        mine["sheet"] = f.sheet(code)
        mine["benefit"] = mine["payment"].benefit
        mine["record_change"] = Change.objects.create(
            record_type="case",
            record_id=mine["case"].pk,
            version=1,
            action="created",
            source_system=mine["system"],
            received_at=mine["case"].received_at,
            diff={"title": [None, mine["case"].title]},
        )
        mine["access"] = DataAccess.objects.create(
            citizen_cpr=mine["case"].party_cpr,
            actor_type=DataAccess.Actor.MUNICIPAL_ADMIN,
            channel=DataAccess.Channel.OTHER,
            municipality=mine["municipality"],
        )
        mine["impact_report"], mine["impact_item"] = _impact_report(mine["row"])
        mine["retention_count"] = RetentionCount.objects.create(
            run=RetentionRun.objects.get_or_create(today=dt.date(2025, 6, 15), trigger="command")[
                0
            ],
            municipality=mine["municipality"],
            kind=RetentionCount.Kind.CASE,
            count=3,
        )
        mine["approved_kle"] = ApprovedKleNumber.objects.create(
            municipality=mine["municipality"], unit=f"Enhed {code}", kle_number="32.24.04"
        )
        mine["admin"] = f.municipal_admin(code, username=f"matrix-{code}")
        mine["membership"] = Membership.objects.get(user=mine["admin"])
        mine["user"] = mine["admin"]
        client = Client()
        client.force_login(mine["admin"])
        mine["client"] = client
    return world


def _impact_report(row):
    """A KLE release that moved the row's number to a successor: the municipality's report."""
    moved = row.kle_subject
    successor = f.kle_subject("32.24.05", "Afløser")
    Subject.objects.filter(pk=moved.pk).update(moved_on=dt.date(2016, 1, 1))
    Succession.objects.get_or_create(predecessor=moved, successor=successor)
    publication, _ = Publication.objects.get_or_create(
        sha256="matrix",
        defaults={
            "kind": "emneplan",
            "format": "2.0",
            "published_on": dt.date(2016, 1, 1),
            "source": "matrix.xml",
        },
    )
    release, _ = KleRelease.objects.get_or_create(publication=publication)
    report = KleImpactReport.objects.create(release=release, municipality=row.municipality)
    item = KleImpactItem.objects.create(
        report=report,
        sheet_row=row,
        kle_number=moved.number,
        kle_title=moved.title,
        change="moved",
        successor_numbers=["32.24.05"],
        proposed_numbers=["32.24.05"],
    )
    return report, item


def _missing_pk(model) -> str:
    pk = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
    return str(pk + 100000) if isinstance(pk, int) else "999"


def _admin_models(policy):
    models = {m._meta.label_lower: m for m in admin.site._registry}
    return [(label, models[label], key) for label, (p, key) in ADMIN_MODELS.items() if p == policy]


@pytest.mark.parametrize(
    ("label", "model", "key"),
    _admin_models(SCOPED),
    ids=lambda v: str(v) if isinstance(v, str) else "",
)
def test_scoped_model_admins_show_only_the_own_municipality(admin_world, label, model, key):
    app, name = model._meta.app_label, model._meta.model_name
    missing = _missing_pk(model)
    for me, other in ((ODENSE, FREDENSBORG), (FREDENSBORG, ODENSE)):
        client = admin_world[me]["client"]
        own, theirs = admin_world[me][key], admin_world[other][key]
        listing = client.get(reverse(f"admin:{app}_{name}_changelist"))
        assert listing.status_code == 200
        shown = {obj.pk for obj in listing.context["cl"].result_list}
        assert own.pk in shown and theirs.pk not in shown, label
        for view in ("change", "history", "delete"):
            own_answer = client.get(reverse(f"admin:{app}_{name}_{view}", args=[own.pk]))
            assert own_answer.status_code in (200, 403), (label, view)
            answer = client.get(reverse(f"admin:{app}_{name}_{view}", args=[theirs.pk]))
            none = client.get(reverse(f"admin:{app}_{name}_{view}", args=[missing]))
            assert answer.status_code == none.status_code == 404, (label, view)
            assert same_page(answer, none), (label, view)
        # The bare id redirects to the change page for any id, so it tells nothing either.
        bare = client.get(f"/admin/{app}/{name}/{theirs.pk}/")
        bare_none = client.get(f"/admin/{app}/{name}/{missing}/")
        assert bare.status_code == bare_none.status_code == 302
        # Adding: only where municipal admins may add, and then a form of the own municipality.
        add = client.get(reverse(f"admin:{app}_{name}_add"))
        assert add.status_code in (200, 403)
        if add.status_code == 200:
            field = add.context["adminform"].form.fields.get("municipality")
            assert field is None or {m.pk for m in field.queryset} == {me}
        # Another municipality's object is not changed by a POST to its change page.
        if label == "indexes.sourcesystem":
            response = client.post(
                reverse(f"admin:{app}_{name}_change", args=[theirs.pk]), {"name": "taken"}
            )
            assert response.status_code == 404
            theirs.refresh_from_db()
            assert theirs.name != "taken"


@pytest.mark.parametrize(
    ("label", "model", "key"),
    _admin_models(OPERATOR),
    ids=lambda v: str(v) if isinstance(v, str) else "",
)
def test_operator_and_permission_models(admin_world, admin_user, label, model, key):
    """Municipal admins: 403 on every page of the model, existing id or not (no existence
    oracle); the operator (superuser) reaches them."""
    app, name = model._meta.app_label, model._meta.model_name
    client = admin_world[ODENSE]["client"]
    existing = admin_world[FREDENSBORG][key].pk if key else None
    if existing is None:
        obj = model._default_manager.first()
        existing = obj.pk if obj is not None else None
    missing = _missing_pk(model)
    assert client.get(reverse(f"admin:{app}_{name}_changelist")).status_code == 403
    assert client.get(reverse(f"admin:{app}_{name}_add")).status_code == 403
    for view in ("change", "history", "delete"):
        none = client.get(reverse(f"admin:{app}_{name}_{view}", args=[missing]))
        assert none.status_code == 403, (label, view, none.status_code)
        if existing is not None:
            answer = client.get(reverse(f"admin:{app}_{name}_{view}", args=[existing]))
            assert answer.status_code == 403, (label, view)
    if label == "auth.user":
        for pk in (existing, missing):
            url = reverse("admin:auth_user_password_change", args=[pk])
            assert client.get(url).status_code == 403
    operator = Client()
    operator.force_login(admin_user)
    assert operator.get(reverse(f"admin:{app}_{name}_changelist")).status_code == 200


def test_admin_site_pages_need_staff(admin_world):
    # A citizen's account: a user who is not staff.
    kim = Client()
    kim.force_login(f.UserFactory(username="citizen-account", is_staff=False))
    odense = admin_world[ODENSE]["client"]
    pages = [
        reverse("admin:index"),
        reverse("admin:password_change"),
        reverse("admin:password_change_done"),
        reverse("admin:jsi18n"),
        reverse("admin:app_list", args=["indexes"]),
        "/admin/nothing-here/",
        reverse("admin:view_on_site", args=[1, admin_world[FREDENSBORG]["case"].pk]),
    ]
    for url in pages:
        # A logged-in citizen is no staff user: the admin login, like anyone else.
        response = kim.get(url)
        assert response.status_code == 302 and response["Location"].startswith(
            reverse("admin:login")
        ), url
    index = odense.get(reverse("admin:index")).content.decode()
    assert "Fredensborg" not in index
    app_list = odense.get(reverse("admin:app_list", args=["indexes"]))
    assert app_list.status_code == 200
    # The catch-all and "view on site" answer 404 for anything (no model has a public page).
    assert odense.get("/admin/nothing-here/").status_code == 404
    assert odense.get(pages[-1]).status_code == 404
    # Logging out of the admin is a POST; afterwards the session is gone.
    assert odense.get(reverse("admin:logout")).status_code == 405
    assert odense.post(reverse("admin:logout")).status_code in (200, 302)
    assert odense.get(reverse("admin:index")).status_code == 302


def test_admin_login_is_the_rate_limited_view():
    from django.urls import resolve

    from overblik.ratelimits import admin_login

    assert resolve(reverse("admin:login")).func is admin_login
    assert resolve(reverse("admin-login")).func is admin_login
    assert Client().get(reverse("admin:login")).status_code == 200


def test_autocomplete_offers_only_the_own_municipality(admin_world):
    for me, other in ((ODENSE, FREDENSBORG), (FREDENSBORG, ODENSE)):
        client = admin_world[me]["client"]
        response = client.get(
            reverse("admin:autocomplete"),
            {"app_label": "borgerblikket", "model_name": "sheetrow", "field_name": "source_system"},
        )
        assert response.status_code == 200
        ids = {item["id"] for item in response.json()["results"]}
        assert ids == {str(admin_world[me]["system"].pk)}
        # A field whose remote model the admin may not view: refused, not listed.
        response = client.get(
            reverse("admin:autocomplete"),
            {"app_label": "borgerblikket", "model_name": "membership", "field_name": "user"},
        )
        assert response.status_code == 403
        assert admin_world[other]["admin"].username not in response.content.decode()


def test_preview_only_for_the_own_municipality(admin_world):
    client = admin_world[ODENSE]["client"]
    theirs = admin_world[FREDENSBORG]["case"]
    page = client.get(reverse("borgerblikket_admin:preview"))
    assert page.status_code == 200
    assert {m.pk for m in page.context["form"].fields["municipality"].queryset} == {ODENSE}
    before = DataAccess.objects.count()
    response = client.post(
        reverse("borgerblikket_admin:preview"),
        {"municipality": FREDENSBORG, "cpr": theirs.party_cpr},
    )
    assert response.status_code == 200
    assert "municipality" in response.context["form"].errors
    body = response.content.decode()
    assert theirs.title not in body and theirs.party_cpr not in body
    assert DataAccess.objects.count() == before


def test_rollout_shows_a_municipality_only_its_own_position(admin_world, admin_user):
    """A municipal admin sees where their own municipality stands, no other's; the operator
    sees all 98."""
    page = admin_world[ODENSE]["client"].get(reverse("borgerblikket_admin:rollout"))
    assert page.status_code == 200
    shown = {m.code for g in page.context["groups"] for m in g["municipalities"]}
    assert shown == {ODENSE}
    assert "Fredensborg" not in page.content.decode()
    operator = Client()
    operator.force_login(admin_user)
    page = operator.get(reverse("borgerblikket_admin:rollout"))
    assert page.status_code == 200 and page.context["total"] == 98


def test_usage_and_satisfaction_show_a_municipality_only_its_own(admin_world, admin_user):
    """Counters and answers of another municipality are not in the page, the CSV or the
    filter (a 404 as for a code that does not exist); the operator sees both."""
    now = timezone.now()
    month = timezone.localdate().replace(day=1)
    for code, views in ((ODENSE, 2), (FREDENSBORG, 5)):
        for _ in range(views):
            usage_count(page_kind=UsageCount.PageKind.CASES, shown=[(code, "32.24.04")], now=now)
        SatisfactionAnswer.objects.create(
            month=month, municipality_code=code, answer=4, comment=f"kommentar fra {code}"
        )
    client = admin_world[ODENSE]["client"]
    usage_url = reverse("borgerblikket_admin:usage")
    satisfaction_url = reverse("borgerblikket_admin:satisfaction")
    assert client.get(usage_url).context["trend"]["months"][-1].views == 2
    csv_rows = b"".join(client.get(usage_url + "?format=csv").streaming_content).decode()
    assert f";{ODENSE};" in csv_rows and f";{FREDENSBORG};" not in csv_rows
    page = client.get(satisfaction_url).content.decode()
    assert f"kommentar fra {ODENSE}" in page and f"kommentar fra {FREDENSBORG}" not in page
    csv_answers = b"".join(client.get(satisfaction_url + "?format=csv").streaming_content).decode()
    assert f"kommentar fra {FREDENSBORG}" not in csv_answers
    for url in (usage_url, satisfaction_url):
        theirs = client.get(f"{url}?kommune={FREDENSBORG}")
        none = client.get(f"{url}?kommune=999")
        # The same page but for the code asked for (the language switch returns to it).
        theirs.content = theirs.content.replace(f"kommune={FREDENSBORG}".encode(), b"kommune=")
        none.content = none.content.replace(b"kommune=999", b"kommune=")
        assert theirs.status_code == 404 and same_page(theirs, none)
    operator = Client()
    operator.force_login(admin_user)
    assert operator.get(usage_url).context["trend"]["months"][-1].views == 7


def test_rollout_csv_holds_only_the_own_municipalitys_row(admin_world, admin_user):
    """The CSV of the roll-out table: a municipal admin's has their own municipality's row
    only, whatever the area; the operator's all 98."""
    for query in ("", "?area=32"):
        response = admin_world[ODENSE]["client"].get(
            reverse("borgerblikket_admin:rollout_csv") + query
        )
        assert response.status_code == 200
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = body.split("\r\n")[1:-1]
        assert [r.split(";")[3] for r in rows] == [ODENSE]
        assert "Fredensborg" not in body and f";{FREDENSBORG};" not in body
    operator = Client()
    operator.force_login(admin_user)
    response = operator.get(reverse("borgerblikket_admin:rollout_csv"))
    assert len(b"".join(response.streaming_content).decode("utf-8-sig").split("\r\n")) == 100


def test_conformance_of_another_municipalitys_system_is_the_same_404_as_none(
    admin_world, admin_user
):
    mine = admin_world[ODENSE]["case"].source_system_id
    theirs = admin_world[FREDENSBORG]["case"].source_system_id
    client = admin_world[ODENSE]["client"]
    url = "borgerblikket_admin:conformance"
    assert client.get(reverse(url, args=[mine])).status_code == 200
    other = client.get(reverse(url, args=[theirs]))
    none = client.get(reverse(url, args=[999999]))
    assert other.status_code == none.status_code == 404
    assert same_page(other, none)
    # Only an operator approves a product for roll-out.
    assert client.post(reverse(url, args=[mine]), {"approve": "1"}).status_code == 403
    operator = Client()
    operator.force_login(admin_user)
    assert operator.get(reverse(url, args=[theirs])).status_code == 200


def test_the_conformance_api_reports_the_callers_own_system(systems):
    for code, client in systems.items():
        report = client.get("/api/v1/conformance").json()
        assert report["municipality"] == code
        assert report["operations"]["case"] == {"created": 1}


def test_the_events_cursor_holds_only_the_callers_events(systems, settings):
    from indexes.models import OutboxEvent

    settings.INDEXES_EVENTS_CURSOR_SETTLE = 0
    for code in systems:
        system = SourceSystem.objects.get(municipality_id=code)
        OutboxEvent.objects.create(
            type="batch.completed", source_system=system, subject=f"batch/{code}"
        )
    for code, client in systems.items():
        events = client.get("/api/v1/events").json()["events"]
        assert [e["subject"] for e in events] == [f"batch/{code}"]


def test_quality_reports_of_another_municipality_are_the_same_404_as_none(admin_world):
    for me, other in ((ODENSE, FREDENSBORG), (FREDENSBORG, ODENSE)):
        client = admin_world[me]["client"]
        response = client.get(reverse("borgerblikket_admin:quality_index"))
        assert response.status_code == 302 and response["Location"].endswith(f"/quality/{me}/")
        for name, extra in (
            ("borgerblikket_admin:quality", []),
            ("borgerblikket_admin:quality_check", ["no_caseworker"]),
            ("borgerblikket_admin:quality_invisible", ["visible"]),
            ("borgerblikket_admin:quality_rejections", ["all"]),
            ("borgerblikket_admin:quality_trend", ["letter_party"]),
        ):
            assert client.get(reverse(name, args=[me, *extra])).status_code == 200, name
            theirs = client.get(reverse(name, args=[other, *extra]))
            none = client.get(reverse(name, args=["999", *extra]))
            assert theirs.status_code == none.status_code == 404, name
            assert same_page(theirs, none), name
        # The own report filtered on the other's source system shows none of its records.
        url = reverse("borgerblikket_admin:quality_invisible", args=[me, "visible"])
        response = client.get(url, {"source_system": admin_world[other]["system"].pk})
        assert response.status_code == 200 and response.context["rows"] == []
        csv = client.get(url, {"source_system": admin_world[other]["system"].pk, "format": "csv"})
        assert (
            admin_world[other]["case"].case_number not in b"".join(csv.streaming_content).decode()
        )


def test_sheet_import_and_export_only_for_the_own_municipality(admin_world):
    client = admin_world[ODENSE]["client"]
    export = reverse("admin:borgerblikket_sheetrow_export")
    assert client.get(export, {"municipality": ODENSE, "file_format": "csv"}).status_code == 200
    assert (
        client.get(export, {"municipality": FREDENSBORG, "file_format": "csv"}).status_code == 404
    )
    page = client.get(reverse("admin:borgerblikket_sheetrow_import"))
    assert {m.pk for m in page.context["form"].fields["municipality"].queryset} == {ODENSE}
    # Fredensborg's admin's pending import cannot be confirmed by Odense's.
    tsv = "\t".join(HEADERS) + "\n"
    theirs, _plan = sheet_import_start(
        municipality=admin_world[FREDENSBORG]["municipality"],
        user=admin_world[FREDENSBORG]["admin"],
        file_name="ark.tsv",
        content=tsv.encode(),
        file_format="tsv",
    )
    url = reverse("admin:borgerblikket_sheetrow_import_confirm", args=[theirs.pk])
    none = reverse("admin:borgerblikket_sheetrow_import_confirm", args=[uuid.uuid4()])
    assert client.post(url).status_code == client.post(none).status_code == 404
    assert SheetImport.objects.get(pk=theirs.pk).applied_at is None
    rows = SheetRow.objects.filter(municipality_id=FREDENSBORG)
    assert [r.contact_department for r in rows] == ["Afdeling 210"]


def test_moving_another_municipalitys_kle_row_is_404(admin_world):
    for me, other in ((ODENSE, FREDENSBORG), (FREDENSBORG, ODENSE)):
        client = admin_world[me]["client"]
        mine, theirs = admin_world[me], admin_world[other]
        own = reverse(
            "admin:borgerblikket_kleimpactreport_move",
            args=[mine["impact_report"].pk, mine["impact_item"].pk],
        )
        assert client.get(own).status_code == 200
        for report, item in (
            (theirs["impact_report"], theirs["impact_item"]),  # their report
            (mine["impact_report"], theirs["impact_item"]),  # their item under my report
        ):
            url = reverse("admin:borgerblikket_kleimpactreport_move", args=[report.pk, item.pk])
            none = reverse(
                "admin:borgerblikket_kleimpactreport_move", args=[report.pk + 100000, item.pk]
            )
            assert same_page(client.get(url), client.get(none))
            assert client.get(url).status_code == client.post(url).status_code == 404
        assert SheetRow.objects.filter(municipality_id=other).count() == 1
        assert not SheetChange.objects.filter(via="kle_move").exists()


def test_retention_preview_only_for_the_own_municipality(admin_world, admin_user):
    """The preview counts the user's own municipalities; another's code is the same 404 as
    a code that does not exist."""
    for code in (FREDENSBORG, ODENSE):
        Sheet.objects.update_or_create(municipality_id=code, defaults={"retention_days": 1})
        case = admin_world[code]["case"]
        CaseProgress.objects.create(
            case=case, status="Afsluttet", valid_from=dt.datetime(2001, 1, 1, tzinfo=dt.UTC)
        )
        Case.objects.filter(pk=case.pk).update(status="Afsluttet")
    url = reverse("admin:borgerblikket_retentioncount_preview")
    client = admin_world[ODENSE]["client"]
    page = client.get(url)
    assert page.status_code == 200
    assert [row["code"] for row in page.context["due_rows"]] == [ODENSE]
    assert "Fredensborg" not in page.content.decode()
    theirs, none = (
        client.get(url, {"municipality": FREDENSBORG}),
        client.get(url, {"municipality": "999"}),
    )
    assert theirs.status_code == none.status_code == 404
    # The same page but for the request's own URL (the language switch returns to it).
    theirs.content = theirs.content.replace(
        b"municipality=" + FREDENSBORG.encode(), b"municipality=999"
    )
    assert same_page(theirs, none)
    operator = Client()
    operator.force_login(admin_user)
    rows = operator.get(url).context["due_rows"]
    assert sorted(row["code"] for row in rows) == sorted([ODENSE, FREDENSBORG])


def test_reverting_another_municipalitys_change_is_404(admin_world):
    client = admin_world[ODENSE]["client"]
    theirs = admin_world[FREDENSBORG]["change"]
    url = reverse("admin:borgerblikket_sheetchange_revert", args=[theirs.pk])
    none = reverse("admin:borgerblikket_sheetchange_revert", args=[theirs.pk + 100000])
    assert client.post(url).status_code == client.post(none).status_code == 404
    assert SheetChange.objects.filter(municipality_id=FREDENSBORG).count() == 1
    assert client.get(url).status_code == 405


def test_api_keys_are_for_operators_only(admin_world):
    """A municipal admin gets 403 on rotating or revoking a key of their own municipality's
    system and on one that does not exist, and sees no key on their system's page."""
    system = admin_world[ODENSE]["system"]
    credential, _ = credential_create(source_system=system)
    client = admin_world[ODENSE]["client"]
    missing = (ApiCredential.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    for name in ("admin:indexes_apicredential_rotate", "admin:indexes_apicredential_revoke"):
        for pk in (credential.pk, missing):
            assert client.get(reverse(name, args=[pk])).status_code == 403
            assert client.post(reverse(name, args=[pk])).status_code == 403
    page = client.get(reverse("admin:indexes_sourcesystem_change", args=[system.pk]))
    assert page.status_code == 200 and credential.key_id not in page.content.decode()
    credential.refresh_from_db()
    assert credential.revoked_at is None and credential.replaced_by_id is None


def test_approved_kle_import_only_into_the_own_municipality(admin_world):
    """The import offers only the admin's own municipality; a post naming another's is refused
    by the form and saves nothing there."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = reverse("admin:borgerblikket_approvedklenumber_import")
    client = admin_world[ODENSE]["client"]
    page = client.get(url)
    assert page.status_code == 200
    offered = {m.pk for m in page.context["form"].fields["municipality"].queryset}
    assert offered == {ODENSE}
    before = ApprovedKleNumber.objects.filter(municipality_id=FREDENSBORG).count()
    upload = SimpleUploadedFile("liste.csv", b"Enhed;KLE-nr.\nIndbrud;32.24.04\n")
    response = client.post(url, {"municipality": FREDENSBORG, "file": upload})
    assert response.status_code == 200
    assert "municipality" in response.context["form"].errors
    assert ApprovedKleNumber.objects.filter(municipality_id=FREDENSBORG).count() == before
    assert not ApprovedKleNumber.objects.filter(unit="Indbrud").exists()
