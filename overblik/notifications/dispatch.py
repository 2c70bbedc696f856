"""From outbox events to pending messages: one per citizen, channel and digest window.

``outbox_dispatch`` claims a batch of events (``FOR UPDATE SKIP LOCKED``, so several
workers share the outbox), asks the one door whose records they name, finds those
citizens' settings by the keyed hash of the CPR number (never the number), keeps the
topics each citizen chose on the channels they confirmed, and adds the events to the
window's pending message (created if there is none), then deletes the events — all in
one transaction, so an event becomes part of a message exactly once.

The window: messages are sent at the end of the digest window the event falls in
(``OVERBLIK_NOTIFICATION_DIGEST_SECONDS``), and an SMS not before the morning
(``OVERBLIK_SMS_FROM_HOUR`` … ``OVERBLIK_SMS_TO_HOUR``, Danish time). A window has one
message, whatever its status: events that arrive after it was taken for sending go to
the next window's.
"""

import datetime as dt
import json
import uuid
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.conf import settings as conf
from django.db import connection, transaction
from django.utils import timezone

from borgerblikket import selectors as bs
from indexes.models import NotificationEvent, NotificationTopic
from overblik.models import (
    Channel,
    DeadlineReminder,
    NotificationMessage,
    NotificationSettings,
)
from overblik.services import citizen_cpr_digests

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
_TOPIC_COLUMNS = {
    NotificationTopic.STATUS: "topic_status",
    NotificationTopic.AWAITING: "topic_awaiting",
    NotificationTopic.DEADLINE: "topic_deadline",
    NotificationTopic.DOCUMENT: "topic_document",
    NotificationTopic.PAYMENT: "topic_payment",
}


def window_end(moment: dt.datetime) -> dt.datetime:
    """The end of the digest window ``moment`` falls in."""
    seconds = max(1, conf.OVERBLIK_NOTIFICATION_DIGEST_SECONDS)
    stamp = int(moment.timestamp())
    return dt.datetime.fromtimestamp((stamp // seconds + 1) * seconds, tz=dt.UTC)


def sms_hours(moment: dt.datetime) -> dt.datetime:
    """``moment``, or the next opening of the SMS hours (Danish time) if outside them."""
    local = moment.astimezone(COPENHAGEN)
    start, end = conf.OVERBLIK_SMS_FROM_HOUR, conf.OVERBLIK_SMS_TO_HOUR
    if start <= local.hour < end:
        return moment
    day = local.date() if local.hour < start else local.date() + dt.timedelta(days=1)
    opening = dt.datetime.combine(day, dt.time(start), tzinfo=COPENHAGEN)
    return opening.astimezone(dt.UTC)


def send_after(channel: str, moment: dt.datetime) -> dt.datetime:
    end = window_end(moment)
    return sms_hours(end) if channel == Channel.SMS else end


def _recipients(digests: set[str]) -> dict[str, dict]:
    """The active settings of the citizens with these keyed hashes, by hash."""
    fields = (
        "id",
        "citizen__cpr_digest",
        "email",
        "email_confirmed_at",
        "email_bounced_at",
        "mobile",
        "mobile_confirmed_at",
        "mobile_bounced_at",
        *_TOPIC_COLUMNS.values(),
    )
    found = {}
    rows = NotificationSettings.objects.filter(
        citizen__cpr_digest__in=digests, paused=False
    ).values(*fields)
    for row in rows:
        row["channels"] = [
            channel
            for channel, field in ((Channel.EMAIL, "email"), (Channel.SMS, "mobile"))
            if row[field] and row[f"{field}_confirmed_at"] and not row[f"{field}_bounced_at"]
        ]
        if row["channels"]:
            found[row["citizen__cpr_digest"]] = row
    return found


def outbox_dispatch(*, limit: int = 5000, now: dt.datetime | None = None) -> int:
    """Turn up to ``limit`` outbox events into pending messages; how many events were taken."""
    now = now or timezone.now()
    with transaction.atomic():
        events = _events_claim(limit)
        if not events:
            return 0
        parties = bs.event_parties([(t, i) for _, _, t, i in events])
        digest_of = citizen_cpr_digests(cpr for cprs in parties.values() for cpr in cprs)
        if connection.vendor == "postgresql":
            _messages_upsert_sql(events, parties, digest_of, now)
            return len(events)
        recipients = _recipients(set(digest_of.values()))
        messages: dict[tuple, list] = defaultdict(list)
        if recipients:
            for _, topic, record_type, record_id in events:
                for cpr in parties.get((record_type, record_id), ()):
                    row = recipients.get(digest_of[cpr])
                    if row is None or not row[_TOPIC_COLUMNS[topic]]:
                        continue
                    for channel in row["channels"]:
                        messages[row["id"], channel].append([topic, record_type, record_id])
        _messages_upsert(messages, now)
        if connection.vendor != "postgresql":
            NotificationEvent.objects.filter(pk__in=[e[0] for e in events]).delete()
    return len(events)


def _events_claim(limit: int) -> list[tuple]:
    """Take up to ``limit`` events out of the outbox (inside the caller's transaction).

    PostgreSQL: one ``DELETE … RETURNING`` of rows locked with ``SKIP LOCKED``, so
    concurrent dispatchers take disjoint events and a rollback puts them back.
    """
    if connection.vendor != "postgresql":
        return list(
            NotificationEvent.objects.order_by("id").values_list(
                "id", "topic", "record_type", "record_id"
            )[:limit]
        )
    table = NotificationEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            DELETE FROM {table} WHERE id IN (
                SELECT id FROM {table} ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
            ) RETURNING id, topic, record_type, record_id
            """,  # noqa: S608 - the table name is the model's own
            [limit],
        )
        return cursor.fetchall()


# The events of one dispatch, by the keyed hash of their party's CPR number; the
# recipients, their chosen topics and confirmed channels are joined in the database.
_ITEMS_TABLE = "notification_dispatch_items"
_CHANNEL_OK = {
    Channel.EMAIL: "s.email <> '' AND s.email_confirmed_at IS NOT NULL "
    "AND s.email_bounced_at IS NULL",
    Channel.SMS: "s.mobile <> '' AND s.mobile_confirmed_at IS NOT NULL "
    "AND s.mobile_bounced_at IS NULL",
}


def _messages_upsert_sql(events, parties, digest_of, now: dt.datetime) -> None:
    """PostgreSQL: the events ``COPY``'d into a temporary table, then one statement per
    window round finds the recipients (settings by the keyed hash, not paused, the topic
    chosen, the channel confirmed and not bounced) and adds the events to their window's
    pending message (``_messages_upsert``'s rule: a window whose message has been taken
    passes its events to the next window)."""
    with connection.cursor() as cursor:
        # Dropped at commit; emptied first in case an outer transaction (a test's)
        # dispatched before in it.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_ITEMS_TABLE} "
            "(seq int, digest text, topic text, item jsonb) ON COMMIT DROP"
        )
        cursor.execute(f"TRUNCATE {_ITEMS_TABLE}")
        rows = [
            (seq, digest_of[cpr], topic, json.dumps([topic, record_type, record_id]))
            for seq, (_, topic, record_type, record_id) in enumerate(events)
            for cpr in parties.get((record_type, record_id), ())
        ]
        if not rows:
            return
        pg = cursor.cursor if hasattr(cursor, "cursor") else cursor
        with pg.copy(f"COPY {_ITEMS_TABLE} (seq, digest, topic, item) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(f"ANALYZE {_ITEMS_TABLE}")
        after = {channel: send_after(channel, now) for channel in Channel.values}
        left: list[tuple] | None = None
        while left is None or left:
            keys = _window_round(cursor, after, now, left)
            if left is None:
                left = list(keys["left"])
            else:
                left = [key for key in left if key not in keys["taken"]]
            after = {channel: send_after(channel, moment) for channel, moment in after.items()}


def _window_round(cursor, after: dict, now: dt.datetime, only: list[tuple] | None) -> dict:
    """One round of ``_messages_upsert_sql``: add the (remaining) recipients' events to
    the pending messages of windows ``after``; which keys were taken, which were left."""
    topic_chosen = " ".join(
        f"WHEN '{topic}' THEN s.{column}" for topic, column in _TOPIC_COLUMNS.items()
    )
    channels = " UNION ALL ".join(
        f"SELECT '{channel}'::text AS channel, %s::timestamptz AS after WHERE {ok}"
        for channel, ok in _CHANNEL_OK.items()
    )
    table = NotificationMessage._meta.db_table
    settings_table = NotificationSettings._meta.db_table
    citizen_table = NotificationSettings._meta.get_field("citizen").related_model._meta.db_table
    restrict = ""
    params: list = [after[channel] for channel in _CHANNEL_OK]
    if only is not None:
        restrict = "AND (s.id, ch.channel) IN (SELECT * FROM unnest(%s::uuid[], %s::text[]))"
        params += [[k[0] for k in only], [k[1] for k in only]]
    cursor.execute(
        f"""
        WITH wanted AS (
            SELECT s.id AS settings_id, ch.channel, ch.after,
                   jsonb_agg(d.item ORDER BY d.seq) AS items
              FROM {_ITEMS_TABLE} d
              -- One index lookup per hash (LIMIT keeps the planner from scanning every
              -- citizen for a hash join; the hash is unique).
              CROSS JOIN LATERAL (
                  SELECT id FROM {citizen_table} WHERE cpr_digest = d.digest LIMIT 1
              ) c
              JOIN {settings_table} s ON s.citizen_id = c.id AND NOT s.paused
              CROSS JOIN LATERAL ({channels}) ch
             WHERE CASE d.topic {topic_chosen} ELSE false END {restrict}
             GROUP BY s.id, ch.channel, ch.after
        ), upserted AS (
            INSERT INTO {table} AS m (settings_id, channel, status, send_after, due_at, items,
                                      topics, idempotency_key, attempts, last_error, created_at)
            SELECT settings_id, channel, 'pending', after, after, items, '[]'::jsonb,
                   gen_random_uuid(), 0, '', %s
              FROM wanted
            ON CONFLICT (settings_id, channel, send_after)
            DO UPDATE SET items = m.items || EXCLUDED.items WHERE m.status = 'pending'
            RETURNING settings_id, channel
        )
        SELECT w.settings_id, w.channel, u.settings_id IS NOT NULL
          FROM wanted w LEFT JOIN upserted u USING (settings_id, channel)
         WHERE u.settings_id IS NULL OR %s
        """,  # noqa: S608 - table names are the models' own, the rest fixed text
        [*params, now, only is not None],
    )
    result: dict[str, set] = {"taken": set(), "left": set()}
    for settings_id, channel, taken in cursor.fetchall():
        result["taken" if taken else "left"].add((str(settings_id), channel))
    return result


def _messages_upsert(messages: dict[tuple, list], now: dt.datetime) -> None:
    """Add each (settings, channel)'s items to its pending message of the window ``now``
    falls in (created if needed). A window whose message has already left ``pending``
    (taken for sending by a worker whose clock passed the window's end while this
    dispatcher's ``now`` had not) takes nothing more: the items go to the next window,
    so a window never gets a second message (the unique constraint
    ``notification_one_per_window``)."""
    after = {key: send_after(key[1], now) for key in messages}
    while after:
        taken = _messages_add(after, messages, now)
        after = {
            key: send_after(key[1], moment) for key, moment in after.items() if key not in taken
        }


def _messages_add(after: dict[tuple, dt.datetime], messages: dict[tuple, list], now) -> set:
    """One round of ``_messages_upsert``: the keys whose items found a pending message."""
    if connection.vendor != "postgresql":
        taken = set()
        for key, moment in after.items():
            settings_id, channel = key
            message = NotificationMessage.objects.filter(
                settings_id=settings_id, channel=channel, send_after=moment
            ).first()
            if message is None:
                NotificationMessage.objects.create(
                    settings_id=settings_id,
                    channel=channel,
                    send_after=moment,
                    due_at=moment,
                    items=messages[key],
                    created_at=now,
                )
            elif message.status == NotificationMessage.Status.PENDING:
                message.items = message.items + messages[key]
                message.save(update_fields=["items"])
            else:
                continue
            taken.add(key)
        return taken
    keys = list(after)
    table = NotificationMessage._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} AS m (settings_id, channel, status, send_after, due_at, items,
                                      topics, idempotency_key, attempts, last_error, created_at)
            SELECT s, c, 'pending', a, a, i::jsonb, '[]'::jsonb, k, 0, '', %s
              FROM unnest(%s::uuid[], %s::text[], %s::timestamptz[], %s::text[], %s::uuid[])
                   AS t(s, c, a, i, k)
            ON CONFLICT (settings_id, channel, send_after)
            DO UPDATE SET items = m.items || EXCLUDED.items WHERE m.status = 'pending'
            RETURNING settings_id, channel
            """,  # noqa: S608 - the table name is the model's own
            [
                now,
                [k[0] for k in keys],
                [k[1] for k in keys],
                [after[k] for k in keys],
                [json.dumps(messages[k]) for k in keys],
                [uuid.uuid4() for _ in keys],
            ],
        )
        taken = {(str(s), c) for s, c in cursor.fetchall()}
    return {key for key in keys if (str(key[0]), key[1]) in taken}


def reminders_write(*, today: dt.date | None = None) -> int:
    """Outbox events for the "Afventer dig" deadlines ``OVERBLIK_NOTIFICATION_REMINDER_DAYS``
    days ahead, once per case and deadline; how many were written."""
    today = today or timezone.localdate()
    on = today + dt.timedelta(days=conf.OVERBLIK_NOTIFICATION_REMINDER_DAYS)
    written = 0
    with transaction.atomic():
        for case_id, due_on in bs.cases_due_for_reminder(on=on):
            _, created = DeadlineReminder.objects.get_or_create(case_id=case_id, due_on=due_on)
            if created:
                NotificationEvent.objects.create(
                    topic=NotificationTopic.DEADLINE, record_type="case", record_id=case_id
                )
                written += 1
    return written
