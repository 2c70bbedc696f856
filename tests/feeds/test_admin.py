"""The admin shows, per source system, its feed, cursor and what each poll did; CPR masked."""

import pytest
from django.urls import reverse

from indexes.feeds import admin as feeds_admin
from indexes.models import FeedPoll, FeedRejection
from tests.feeds.conftest import poll_until_done

pytestmark = pytest.mark.django_db


@pytest.fixture
def polled_feed(feed_make, now):
    feed = feed_make("FASIT", citizens=80, faults={"kle_unknown": 0.5})
    poll_until_done(feed)
    return feed


def test_feed_list_and_page_show_cursor_and_recent_polls(admin_client, polled_feed):
    listing = admin_client.get(reverse("admin:indexes_sourcefeed_changelist"))
    assert listing.status_code == 200
    assert "FASIT" in listing.content.decode()
    page = admin_client.get(reverse("admin:indexes_sourcefeed_change", args=[polled_feed.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    poll = FeedPoll.objects.filter(feed=polled_feed).first()
    assert reverse("admin:indexes_feedpoll_change", args=[poll.pk]) in html
    assert "Gennemført" in html  # the poll's status
    assert polled_feed.cursor.position in html


def test_poll_page_lists_rejections_with_reasons_and_masks_cpr(admin_client, polled_feed):
    poll = FeedPoll.objects.filter(feed=polled_feed, rejected__gt=0).first()
    assert poll is not None  # half the cases have an unknown KLE number
    rejection = FeedRejection.objects.filter(poll=poll).first()
    FeedRejection.objects.filter(pk=rejection.pk).update(external_id="sag-0101501234")
    page = admin_client.get(reverse("admin:indexes_feedpoll_change", args=[poll.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "unknown_kle" in html
    assert "0101501234" not in html and "[CPR]" in html
    listing = admin_client.get(
        reverse("admin:indexes_feedrejection_changelist") + "?code=unknown_kle"
    )
    assert listing.status_code == 200 and "0101501234" not in listing.content.decode()


def test_poll_now_enqueues_a_poll_per_chosen_feed(admin_client, polled_feed, monkeypatch):
    enqueued = []
    monkeypatch.setattr(feeds_admin.feed_poll_task, "delay", lambda *args: enqueued.append(args))
    response = admin_client.post(
        reverse("admin:indexes_sourcefeed_changelist"),
        {"action": "poll_now", "_selected_action": [polled_feed.pk]},
    )
    assert response.status_code == 302
    assert enqueued == [(polled_feed.pk, FeedPoll.Trigger.MANUAL)]


def test_feeds_and_polls_cannot_be_edited_in_the_admin(admin_client, polled_feed):
    poll = FeedPoll.objects.filter(feed=polled_feed).first()
    response = admin_client.post(
        reverse("admin:indexes_feedpoll_change", args=[poll.pk]), {"status": "failed"}
    )
    assert response.status_code == 403
    poll.refresh_from_db()
    assert poll.status == FeedPoll.Status.SUCCEEDED
    assert admin_client.get(reverse("admin:indexes_sourcefeed_add")).status_code == 403
