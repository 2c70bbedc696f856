from django.urls import path

from overblik import views

app_name = "overblik"
urlpatterns = [
    path("", views.home, name="home"),
]
