"""Every role against every admin URL (docs/roles.md).

``ADMIN_RULES`` names, for each admin page a registered ModelAdmin or an admin view adds,
what each role gets: the page (200 or a redirect), the refusal page in the admin's look
(403), or 405 for a POST-only view. The walk goes through ``get_resolver()``: an admin
URL without a rule fails ``test_every_admin_url_has_a_rule_for_every_role``, so a new admin
page cannot ship without deciding who may use it. Objects are the role's own
municipality's (Odense); another municipality's are covered by test_authz_matrix.py.
"""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from borgerblikket.models import Membership
from borgerblikket.roles import OPERATOR_GROUP
from indexes.services.credentials import credential_create
from tests.borgerblikket import factories as f
from tests.security.test_authz_matrix import (  # noqa: F401 - fixtures
    FREDENSBORG,
    ODENSE,
    admin_world,
    url_patterns,
    world,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ROLES = ("superuser", "operator", "lead", "admin", "area", "manager", "no_role")
MUNICIPAL = ("lead", "admin", "area", "manager")

OK = "ok"  # the page: 200, or a redirect inside the admin
REFUSED = "refused"  # 403, the refusal page in the admin's look
POST = "post"  # 405 to a GET: a POST-only action
ANY = "any"  # no 5xx; the page decides by its query (e.g. autocomplete needs parameters)


def _only(*roles, otherwise=REFUSED) -> dict[str, str]:
    return {role: OK if role in roles else otherwise for role in ROLES}


# Model admins: which of (view, add, change, delete) each role has, per model label.
# "v" view (changelist, change page read-only, history), "a" add, "c" change, "d" delete.
MODEL_RULES: dict[str, dict[str, str]] = {
    "borgerblikket.sheetrow": {
        "lead": "vacd", "admin": "vacd", "area": "vacd", "manager": "v", "operator": "v"
    },
    "borgerblikket.sheet": {"lead": "vac", "admin": "vac", "manager": "v", "operator": "v"},
    "borgerblikket.sheetchange": {"lead": "v", "admin": "v", "area": "v", "operator": "v"},
    "borgerblikket.kleimpactreport": {"lead": "v", "admin": "v", "area": "v", "operator": "v"},
    "borgerblikket.retentioncount": {"lead": "v", "admin": "v", "operator": "v"},
    "borgerblikket.approvedklenumber": {
        "lead": "vacd", "admin": "vacd", "manager": "v", "operator": "v"
    },
    "borgerblikket.membership": {"lead": "vacd", "operator": "vacd"},
    "borgerblikket.mandatoryklenumber": {"operator": "vacd"},
    "borgerblikket.rolloutstage": {"operator": "vacd"},
    "borgerblikket.titleabbreviation": {"operator": "vacd"},
    "borgerblikket.titleleadword": {"operator": "vacd"},
    "borgerblikket.klerelease": {"operator": "v"},
    "borgerblikket.retentionrun": {"operator": "v"},
    "indexes.municipality": {
        "lead": "v", "admin": "v", "area": "v", "manager": "v", "operator": "v"
    },
    "indexes.sourcesystem": {"lead": "vc", "admin": "vc", "operator": "vac"},
    **{
        f"indexes.{name}": {"lead": "v", "admin": "v"}
        for name in ("case", "document", "grant", "grantedbenefit", "payment", "change")
    },
    "indexes.dataaccess": {"lead": "v", "admin": "v"},
    "indexes.sourcefeed": {"operator": "v"},
    "indexes.feedpoll": {"operator": "v"},
    "indexes.feedrejection": {},
    "indexes.inboxbatch": {"operator": "v"},
    "indexes.apicredential": {},
    # Webhook subscriptions hold their signing secrets: superusers only, like API keys.
    "indexes.webhooksubscription": {},
    "indexes.webhookdelivery": {},
    **{
        f"kle.{name}": {"operator": "v"}
        for name in ("subject", "facetcategory", "facet", "publication", "syncsource")
    },
    "auth.user": {},
    "auth.group": {},
    **{
        f"django_celery_beat.{name}": {}
        for name in (
            "periodictask",
            "clockedschedule",
            "crontabschedule",
            "solarschedule",
            "intervalschedule",
        )
    },
}  # fmt: skip

# The admin's other pages, by URL name.
ADMIN_RULES: dict[str, dict[str, str]] = {
    "admin:index": _only(*ROLES),
    "admin:password_change": _only(*ROLES),
    "admin:password_change_done": _only(*ROLES),
    "admin:jsi18n": _only(*ROLES),
    "admin:login": _only(*ROLES),  # a logged-in user is sent on to the start page
    "admin-login": _only(*ROLES),
    "admin:logout": dict.fromkeys(ROLES, POST),
    "admin:app_list": dict.fromkeys(ROLES, ANY),
    "admin:autocomplete": dict.fromkeys(ROLES, ANY),
    "admin:view_on_site": dict.fromkeys(ROLES, ANY),  # 404: no model has a public page
    "admin:admin/(?P<url>.*)$": dict.fromkeys(ROLES, ANY),  # the catch-all's 404
    "borgerblikket_admin:preview": _only("superuser", "lead", "admin"),
    "borgerblikket_admin:rollout": _only("superuser", "operator", "lead", "admin", "manager"),
    "borgerblikket_admin:usage": _only("superuser", "operator", "lead", "admin", "manager"),
    "borgerblikket_admin:satisfaction": _only("superuser", "operator", "lead", "admin", "manager"),
    "borgerblikket_admin:rollout_csv": _only("superuser", "operator", "lead", "admin", "manager"),
    "borgerblikket_admin:quality_index": _only("superuser", "operator", "lead", "admin", "manager"),
    "borgerblikket_admin:quality": _only("superuser", "operator", "lead", "admin", "manager"),
    "borgerblikket_admin:conformance": _only("superuser", "operator", "lead", "admin", "manager"),
    "borgerblikket_admin:quality_trend": _only("superuser", "operator", "lead", "admin", "manager"),
    **{
        f"borgerblikket_admin:{name}": _only("superuser", "lead", "admin")
        for name in ("quality_check", "quality_invisible", "quality_rejections")
    },
    "admin:borgerblikket_sheetrow_import": _only("superuser", "lead", "admin", "area"),
    "admin:borgerblikket_sheetrow_import_confirm": dict.fromkeys(ROLES, POST),
    "admin:borgerblikket_sheetrow_export": _only("superuser", "operator", "lead", "admin", "area"),
    "admin:borgerblikket_sheetchange_revert": dict.fromkeys(ROLES, POST),
    # The area admin's area is 32; the row moves from 32.24.04 to 32.24.05 (inside it).
    "admin:borgerblikket_kleimpactreport_move": _only("superuser", "lead", "admin", "area"),
    "admin:borgerblikket_retentioncount_preview": _only("superuser", "operator", "lead", "admin"),
    "admin:borgerblikket_approvedklenumber_import": _only("superuser", "lead", "admin"),
    "admin:auth_user_password_change": _only("superuser"),
    "admin:indexes_apicredential_rotate": _only("superuser"),
    "admin:indexes_apicredential_revoke": _only("superuser"),
}

MODEL_VIEWS = {"changelist": "v", "add": "a", "change": "v", "history": "v", "delete": "d"}
# world key of an Odense object per model (others: the first object, or an id that is none)
OBJECTS = {
    "borgerblikket.sheetrow": "row",
    "borgerblikket.sheet": "sheet",
    "borgerblikket.sheetchange": "change",
    "borgerblikket.kleimpactreport": "impact_report",
    "borgerblikket.retentioncount": "retention_count",
    "borgerblikket.approvedklenumber": "approved_kle",
    "borgerblikket.membership": "membership",
    "indexes.municipality": "municipality",
    "indexes.sourcesystem": "system",
    "indexes.case": "case",
    "indexes.document": "document",
    "indexes.grant": "grant",
    "indexes.grantedbenefit": "benefit",
    "indexes.payment": "payment",
    "indexes.change": "record_change",
    "indexes.dataaccess": "access",
    "auth.user": "user",
}


def _admin_urls() -> dict[str, str]:
    return {
        key: route
        for key, route in url_patterns().items()
        if key.startswith(("admin:", "borgerblikket_admin:")) or key == "admin-login"
    }


def _model_of(key: str):
    for model in admin.site._registry:
        app, name = model._meta.app_label, model._meta.model_name
        for view in MODEL_VIEWS:
            if key == f"admin:{app}_{name}_{view}":
                return model, view
    return None, None


def expected(key: str, route: str, role: str) -> str | None:
    if key in ADMIN_RULES:
        return ADMIN_RULES[key].get(role)
    model, view = _model_of(key)
    if model is None:
        if route.endswith("<path:object_id>/") and route.startswith("admin/"):
            return ANY  # the bare id: a redirect to the change page for any id
        return None
    label = model._meta.label_lower
    if label not in MODEL_RULES:
        return None
    if role == "superuser":
        return ANY
    actions = MODEL_RULES[label].get(role, "")
    if view == "change" and "c" in actions:
        return OK
    return OK if MODEL_VIEWS[view] in actions else REFUSED


def test_every_admin_url_has_a_rule_for_every_role():
    urls = _admin_urls()
    assert len(urls) > 150
    missing = sorted(
        f"{key} ({route}): {role}"
        for key, route in urls.items()
        for role in ROLES
        if expected(key, route, role) is None
    )
    assert missing == [], "admin URLs without a role rule (add them to ADMIN_RULES/MODEL_RULES)"
    registered = {m._meta.label_lower for m in admin.site._registry}
    assert registered == set(MODEL_RULES), registered ^ set(MODEL_RULES)


def test_an_admin_url_without_a_rule_is_caught():
    assert expected("admin:borgerblikket_usage", "admin/borgerblikket/usage/", "lead") is None


@pytest.fixture
def role_clients(admin_world, admin_user):  # noqa: F811
    """A logged-in client per role, each (but the superuser and operator) in Odense."""
    odense = admin_world[ODENSE]
    Membership.objects.filter(user=odense["admin"]).update(role=Membership.Role.ADMIN)
    users = {"superuser": admin_user, "admin": odense["admin"]}
    users["operator"] = f.UserFactory(username="roles-operator")
    users["operator"].groups.add(Group.objects.get(name=OPERATOR_GROUP))
    for role in ("lead", "area", "manager"):
        users[role] = f.municipal_admin(ODENSE, username=f"roles-{role}")
        Membership.objects.filter(user=users[role]).update(role=role)
    area = Membership.objects.get(user=users["area"])
    area.areas.set([f.kle_subject("32")])  # the world's rows are on 32.24.04
    users["no_role"] = f.UserFactory(username="roles-nobody")
    clients = {}
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        clients[role] = client
    return clients


def _sample(route: str, key: str, admin_world) -> str:  # noqa: F811
    """The route with the Odense object of its model (or a plausible id)."""
    from tests.security.test_authz_matrix import sample_path

    model, view = _model_of(key)
    odense = admin_world[ODENSE]
    if key == "admin:borgerblikket_kleimpactreport_move":
        return reverse(key, args=[odense["impact_report"].pk, odense["impact_item"].pk])
    if key.startswith("borgerblikket_admin:quality"):
        extra = {
            "borgerblikket_admin:quality_check": ["no_caseworker"],
            "borgerblikket_admin:quality_invisible": ["visible"],
            "borgerblikket_admin:quality_rejections": ["all"],
            "borgerblikket_admin:quality_trend": ["letter_party"],
            "borgerblikket_admin:quality": [],
        }.get(key)
        if extra is not None:
            return reverse(key, args=[ODENSE, *extra])
    if key == "borgerblikket_admin:conformance":
        return reverse(key, args=[odense["system"].pk])
    if key.startswith("admin:indexes_apicredential_r"):
        credential, _secret = credential_create(source_system=odense["system"])
        return reverse(key, args=[credential.pk])
    if key == "admin:auth_user_password_change":
        return reverse(key, args=[admin_world[FREDENSBORG]["admin"].pk])
    if model is not None and view in ("change", "history", "delete"):
        label = model._meta.label_lower
        obj = odense[OBJECTS[label]] if label in OBJECTS else model._default_manager.first()
        if obj is not None:
            return reverse(key, args=[obj.pk])
    return sample_path(route)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_matrix_says_on_every_admin_url(
    role_clients,
    admin_world,  # noqa: F811
    role,
):
    client = role_clients[role]
    wrong = []
    for key, route in sorted(_admin_urls().items()):
        want = expected(key, route, role)
        path = _sample(route, key, admin_world)
        response = client.get(path)
        status = response.status_code
        assert status < 500, (key, path, status)
        if want == OK:
            good = status == 200 or (
                status == 302 and not response["Location"].startswith(reverse("admin:login"))
            )
        elif want == REFUSED:
            good = status == 403 and b'id="refused"' in response.content
            good = good and b'id="site-name"' in response.content  # the admin's look
        elif want == POST:
            good = status == 405
        else:
            good = True
        if not good:
            wrong.append(f"{key} {path}: {status}, expected {want}")
    assert wrong == [], "\n".join(wrong)
