"""URLs of Mit Overblik (Danish paths; the language is chosen by cookie, not URL)."""

from django.urls import include, path, register_converter

from overblik import auth, views
from overblik.notifications import views as notification_views


class MunicipalityCode:
    """A municipality code in a path: three digits (anything else is a plain 404)."""

    regex = "[0-9]{3}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(MunicipalityCode, "kommune")

app_name = "overblik"
urlpatterns = [
    path("", views.home, name="home"),
    path("log-ind/", views.login_page, name="login"),
    path("log-ind/fejl/", views.login_failed, name="login-failed"),
    path("log-af/", auth.CitizenLogoutView.as_view(), name="logout"),
    path("logget-af/", views.logged_out, name="logged-out"),
    path("oidc/authenticate/", auth.CitizenLoginStartView.as_view(), name="oidc-authenticate"),
    path("oidc/callback/", auth.CitizenCallbackView.as_view(), name="oidc-callback"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("overblik/", views.overview, name="overview"),
    path("sager/", views.cases, name="cases"),
    path("sager/<int:case_id>/", views.case, name="case"),
    path("ydelser/", views.benefits, name="benefits"),
    path("serviceydelser/", views.services, name="services"),
    path("serviceydelser/<int:benefit_id>/", views.service, name="service"),
    path("hvem-har-set-mine-data/", views.access_log, name="access-log"),
    path("du-ser/", views.acting_switch, name="acting"),
    path("tilfredshed/", views.satisfaction_answer, name="satisfaction"),
    path("beskeder/", notification_views.notifications, name="notifications"),
    path("beskeder/indstillinger/", notification_views.preferences_save, name="notifications-save"),
    path("beskeder/e-mail/", notification_views.email_start, name="notifications-email"),
    path(
        "beskeder/e-mail/bekraeft/",
        notification_views.email_confirm,
        name="notifications-email-confirm",
    ),
    path("beskeder/mobil/", notification_views.mobile_start, name="notifications-mobile"),
    path(
        "beskeder/mobil/bekraeft/",
        notification_views.mobile_confirm,
        name="notifications-mobile-confirm",
    ),
    path(
        "beskeder/<str:channel>/fjern/",
        notification_views.address_remove,
        name="notifications-remove",
    ),
    path("beskeder/afmeld/<str:token>/", notification_views.unsubscribe, name="unsubscribe"),
    # Public: what each municipality shows (seed 004, "absence means absence").
    path("kommuner/", views.municipalities, name="municipalities"),
    path("kommuner/<kommune:code>/", views.municipality, name="municipality"),
]
