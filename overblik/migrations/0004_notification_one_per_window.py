"""One message per citizen, channel and digest window, whatever its status (issue 14:
a late dispatcher made a second message for a window already sent)."""

import datetime as dt

from django.db import migrations, models


def duplicates_apart(apps, schema_editor):
    """Messages the defect already made for a window that had one keep their history:
    each one after the first moves a microsecond per duplicate, so the constraint holds."""
    message = apps.get_model("overblik", "NotificationMessage")
    seen: dict[tuple, int] = {}
    rows = message.objects.order_by("id").values_list("id", "settings_id", "channel", "send_after")
    for pk, settings_id, channel, send_after in rows:
        key = (settings_id, channel, send_after)
        if key in seen:
            seen[key] += 1
            moved = send_after + dt.timedelta(microseconds=seen[key])
            message.objects.filter(pk=pk).update(send_after=moved)
        else:
            seen[key] = 0


class Migration(migrations.Migration):
    dependencies = [
        ("overblik", "0002_notifications"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="notificationmessage",
            name="notification_one_pending_per_window",
        ),
        migrations.RunPython(duplicates_apart, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="notificationmessage",
            constraint=models.UniqueConstraint(
                fields=("settings", "channel", "send_after"), name="notification_one_per_window"
            ),
        ),
    ]
