"""The access log says who by role and organisation and what in words a citizen reads.

Issue 11.12: the citizen read "administrator odense-adminKommunal administrator"
and "admin list: sager". ``actor_label`` (with the user's name) and ``purpose``
give way to ``channel``, ``record_kind`` and ``subject``; ``detail`` becomes the
admin's internal note. Existing rows are classified from their old texts (the
purposes and details the code wrote), their municipality is recovered from the
label or the source system, and the old texts are kept in the internal note
(CPR-shaped numbers masked) so the audit loses nothing.
"""

import re

from django.db import migrations, models

from config.cpr_shape import cpr_shapes_mask

# What the code wrote before, and what it meant.
LIST_KINDS = {
    "sager": "case",
    "dokumenter": "document",
    "bevillinger": "grant",
    "bevilgede ydelser": "benefit",
    "udbetalinger": "payment",
    "ændringer": "change",
}
RECORD_KINDS = {
    "sag": "case",
    "dokument": "document",
    "bevilling": "grant",
    "bevilget ydelse": "benefit",
    "udbetaling": "payment",
    "ændring": "change",
}
API_KINDS = {"case", "document", "grant", "payment"}
ADMIN_LABEL = re.compile(r"^(?P<name>[^,]+) Kommune, administrator\b")


def classify(actor_type: str, purpose: str, detail: str) -> tuple[str, str]:
    """(channel, record_kind) of an old row from its purpose and detail."""
    head = detail.split(":", 1)[0].strip()
    if purpose.startswith("Vis som borger"):
        return "preview", "all"
    if detail.startswith("admin list: "):
        what = detail.removeprefix("admin list: ")
        kind = "document" if what.lower().startswith("dokument") else "case"
        if what.endswith("(CSV)"):
            return "quality_download", kind
        if what in LIST_KINDS:
            return "admin_list", LIST_KINDS[what]
        return "quality_report", kind
    if purpose == "Så posten i administrationen":
        return "admin_record", RECORD_KINDS.get(head, "")
    if actor_type == "source_system" or purpose.startswith("Fagsystemet"):
        return "api_readback", head if head in API_KINDS else ""
    return "other", ""


def forward(apps, schema_editor):
    DataAccess = apps.get_model("indexes", "DataAccess")
    Municipality = apps.get_model("indexes", "Municipality")
    by_name = {m.name: m.pk for m in Municipality.objects.all()}
    rows = DataAccess.objects.select_related("source_system").order_by("pk")
    batch = []
    for row in rows.iterator(chunk_size=2000):
        row.channel, row.record_kind = classify(row.actor_type, row.purpose, row.detail)
        if row.municipality_id is None:
            if row.source_system_id is not None:
                row.municipality_id = row.source_system.municipality_id
            elif match := ADMIN_LABEL.match(row.actor_label):
                row.municipality_id = by_name.get(match["name"])
        old = f"{row.actor_label}: {row.purpose}" + (f" ({row.detail})" if row.detail else "")
        row.detail = cpr_shapes_mask(old)[:255]
        batch.append(row)
        if len(batch) == 2000:
            DataAccess.objects.bulk_update(
                batch, ["channel", "record_kind", "municipality", "detail"]
            )
            batch = []
    DataAccess.objects.bulk_update(batch, ["channel", "record_kind", "municipality", "detail"])


def backward(apps, schema_editor):
    DataAccess = apps.get_model("indexes", "DataAccess")
    for row in DataAccess.objects.order_by("pk").iterator(chunk_size=2000):
        row.actor_label = row.get_actor_type_display()
        row.purpose = row.get_channel_display()
        row.save(update_fields=["actor_label", "purpose"])


class Migration(migrations.Migration):
    dependencies = [
        ("indexes", "0007_case_awaiting_party_since"),
    ]

    operations = [
        migrations.AddField(
            model_name="dataaccess",
            name="channel",
            field=models.CharField(
                choices=[
                    ("admin_record", "Posten åbnet i administrationen"),
                    ("admin_list", "En liste i administrationen"),
                    ("preview", "Vis som borger"),
                    ("quality_report", "Datakvalitetsrapport"),
                    ("quality_download", "Udtræk fra datakvalitetsrapporten"),
                    ("api_readback", "Fagsystemets opslag i sine egne indberetninger"),
                    ("other", "Andet"),
                ],
                default="other",
                max_length=20,
                verbose_name="hvor",
            ),
        ),
        migrations.AddField(
            model_name="dataaccess",
            name="record_kind",
            field=models.CharField(
                blank=True,
                choices=[
                    ("case", "sag"),
                    ("document", "dokument"),
                    ("grant", "bevilling"),
                    ("benefit", "ydelse"),
                    ("payment", "udbetaling"),
                    ("change", "ændring"),
                    ("all", "alt"),
                ],
                max_length=20,
                verbose_name="hvad",
            ),
        ),
        migrations.AddField(
            model_name="dataaccess",
            name="subject",
            field=models.CharField(blank=True, max_length=255, verbose_name="om"),
        ),
        migrations.AlterField(
            model_name="dataaccess",
            name="detail",
            field=models.CharField(blank=True, max_length=255, verbose_name="intern note"),
        ),
        migrations.RunPython(forward, backward),
    ]
