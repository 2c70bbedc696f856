"""Borgerblikket's admin pages keep their addresses (bookmarks, links in the admin, docs)."""

import pytest
from django.urls import resolve, reverse

from borgerblikket.admin import views

PAGES = [
    ("preview", {}, "/admin/borgerblikket/preview/", views.citizen_preview),
    ("rollout", {}, "/admin/borgerblikket/rollout/", views.rollout_status),
    ("quality_index", {}, "/admin/borgerblikket/quality/", views.quality_index),
    ("quality", {"code": "461"}, "/admin/borgerblikket/quality/461/", views.quality_report),
    (
        "quality_invisible",
        {"code": "461", "reason": "no_cpr"},
        "/admin/borgerblikket/quality/461/invisible/no_cpr/",
        views.quality_invisible,
    ),
    (
        "quality_rejections",
        {"code": "461", "reason": "unknown_kle"},
        "/admin/borgerblikket/quality/461/rejected/unknown_kle/",
        views.quality_rejections,
    ),
    (
        "quality_check",
        {"code": "461", "key": "case_title"},
        "/admin/borgerblikket/quality/461/case_title/",
        views.quality_check,
    ),
]


@pytest.mark.parametrize(("name", "kwargs", "path", "view"), PAGES, ids=[p[0] for p in PAGES])
def test_each_admin_page_keeps_its_address_and_view(name, kwargs, path, view):
    assert reverse(f"borgerblikket_admin:{name}", kwargs=kwargs) == path
    # Behind admin.site.admin_view (staff login, CSRF), which wraps the package's view.
    assert resolve(path).func.__wrapped__ is view
