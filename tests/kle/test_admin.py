"""The read-only KLE admin: search, filters, successors and predecessors."""

import pytest
from django.urls import reverse

from kle.models import Facet, Subject
from kle.services.importer import kle_import
from tests.kle.conftest import FIXTURE_EMNEPLAN, FIXTURE_FACETS

pytestmark = pytest.mark.django_db


@pytest.fixture
def kle():
    kle_import(source=str(FIXTURE_EMNEPLAN))
    kle_import(source=str(FIXTURE_FACETS))


def _numbers(response) -> set[str]:
    return {subject.number for subject in response.context["cl"].result_list}


def test_search_by_number_prefix_and_by_title(admin_client, kle):
    url = reverse("admin:kle_subject_changelist")

    by_number = _numbers(admin_client.get(url, {"q": "02.00"}))
    by_title = _numbers(admin_client.get(url, {"q": "hegnssyn"}))

    assert by_number == {"02.00", "02.00.01", "02.00.10"}
    assert by_title == {"02.00.10"}


def test_filter_by_level_and_by_status(admin_client, kle):
    url = reverse("admin:kle_subject_changelist")

    main_groups = _numbers(admin_client.get(url, {"level__exact": "hovedgruppe"}))
    expired = _numbers(admin_client.get(url, {"status": "expired"}))
    moved = _numbers(admin_client.get(url, {"status": "moved"}))
    active = _numbers(admin_client.get(url, {"status": "active", "level__exact": "emne"}))

    assert main_groups == set(
        Subject.objects.filter(level="hovedgruppe").values_list("number", flat=True)
    )
    assert "02.00.01" in expired and "00.10.00" not in expired
    assert "00.10.00" in moved and "02.00.01" not in moved
    assert "02.00.10" in active and not active & (expired | moved)
    assert (
        len(active) == Subject.objects.filter(level="emne", expired_on=None, moved_on=None).count()
    )


def test_a_moved_topic_shows_its_successors_and_the_successor_its_predecessors(admin_client, kle):
    moved = Subject.objects.get(number="00.10.00")
    successor = Subject.objects.get(number="15.40.00")

    moved_page = admin_client.get(reverse("admin:kle_subject_change", args=[moved.pk]))
    successor_page = admin_client.get(reverse("admin:kle_subject_change", args=[successor.pk]))

    assert moved_page.status_code == 200
    assert "15.40.00 Integration og udlændinge i almindelighed" in moved_page.text
    assert "00.10.00 Integration og udlændinge i almindelighed [udgået]" in successor_page.text
    assert "00.10.10 Integrationsråd, opbygning af [udgået]" in successor_page.text


def test_guidance_is_rendered_as_the_sanitised_html(admin_client, kle):
    hegnssyn = Subject.objects.get(number="02.00.10")

    page = admin_client.get(reverse("admin:kle_subject_change", args=[hegnssyn.pk]))

    assert "<b>hegnssyn</b>" in page.text
    assert "Hegnsloven" in page.text and "A20070005929" in page.text


def test_kle_is_read_only_in_the_admin(admin_client, kle):
    hegnssyn = Subject.objects.get(number="02.00.10")
    facet = Facet.objects.get(code="G01")

    assert admin_client.get(reverse("admin:kle_subject_add")).status_code == 403
    assert (
        admin_client.post(reverse("admin:kle_subject_delete", args=[hegnssyn.pk])).status_code
        == 403
    )
    admin_client.post(reverse("admin:kle_facet_change", args=[facet.pk]), {"title": "Changed"})
    assert Facet.objects.get(code="G01").title == "Generelle sager"
    page = admin_client.get(reverse("admin:kle_subject_change", args=[hegnssyn.pk]))
    assert 'name="title"' not in page.text


def test_facets_and_publications_are_listed(admin_client, kle):
    facets = admin_client.get(reverse("admin:kle_facet_changelist"), {"q": "G01"})
    publications = admin_client.get(reverse("admin:kle_publication_changelist"))

    assert [f.code for f in facets.context["cl"].result_list] == ["G01"]
    assert len(publications.context["cl"].result_list) == 2
