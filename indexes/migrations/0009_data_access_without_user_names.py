"""The access log keeps no user names in what a citizen is shown (issue 11.12).

After 0008 moved the old texts to the internal note, the columns that held them
go. A migration of its own: PostgreSQL refuses to alter a table in the
transaction that just updated its rows' foreign keys.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("indexes", "0008_data_access_who_and_what_for_citizens"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="dataaccess",
            name="actor_label",
        ),
        migrations.RemoveField(
            model_name="dataaccess",
            name="purpose",
        ),
    ]
