"""URL configuration: citizen portal at /, admin at /admin/, API at /api/v1/."""

from django.contrib import admin
from django.urls import include, path

from borgerblikket.admin.hardening import admin_site_harden
from config import health
from overblik.ratelimits import admin_login

# Every app's admins are registered by now (admin autodiscovery); check before lookup.
admin_site_harden(admin.site)

# A refusal in the admin is a page in the admin's look naming the user's roles.
handler403 = "borgerblikket.admin.views.permission_denied"

urlpatterns = [
    path("healthz/live", health.live, name="health-live"),
    path("healthz/ready", health.ready, name="health-ready"),
    path("healthz/status", health.status, name="health-status"),
    # Borgerblikket's admin-only pages (preview as citizen, data quality, roll-out).
    path("admin/borgerblikket/", include("borgerblikket.admin.urls")),
    # The admin login with its rate limits (overblik/ratelimits.py) in front of admin.site's.
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("borgerblikket.api_urls")),
    path("api/v1/", include("indexes.urls")),
    path("", include("overblik.urls")),
]
