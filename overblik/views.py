"""Citizen pages (Mit Overblik)."""

from django.shortcuts import render


def home(request):
    """The front page: what Overblik is and where to log in."""
    return render(request, "overblik/home.html")
