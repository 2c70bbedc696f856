"""Admin-only pages of borgerblikket, mounted under /admin/borgerblikket/ (config/urls.py)."""

from django.contrib import admin
from django.urls import path

from borgerblikket.admin import views as admin_views

app_name = "borgerblikket_admin"
wrap = admin.site.admin_view
urlpatterns = [
    path("preview/", wrap(admin_views.citizen_preview), name="preview"),
    path("rollout/", wrap(admin_views.rollout_status), name="rollout"),
    path("usage/", wrap(admin_views.usage_report), name="usage"),
    path("satisfaction/", wrap(admin_views.satisfaction_report), name="satisfaction"),
    path("rollout/csv/", wrap(admin_views.rollout_csv), name="rollout_csv"),
    path(
        "conformance/<int:source_system_id>/",
        wrap(admin_views.conformance_report),
        name="conformance",
    ),
    path("quality/", wrap(admin_views.quality_index), name="quality_index"),
    path("quality/<str:code>/", wrap(admin_views.quality_report), name="quality"),
    path(
        "quality/<str:code>/invisible/<str:reason>/",
        wrap(admin_views.quality_invisible),
        name="quality_invisible",
    ),
    path(
        "quality/<str:code>/rejected/<str:reason>/",
        wrap(admin_views.quality_rejections),
        name="quality_rejections",
    ),
    path(
        "quality/<str:code>/trend/<str:key>/",
        wrap(admin_views.quality_trend),
        name="quality_trend",
    ),
    path("quality/<str:code>/<str:key>/", wrap(admin_views.quality_check), name="quality_check"),
]
