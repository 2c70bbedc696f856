"""URLs of Mit Overblik (Danish paths; the language is chosen by cookie, not URL)."""

from django.urls import include, path

from overblik import auth, views

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
]
