"""Default list of lead words a title should start with (seed 002: a title says what the
case or letter is — "Afslag på …", "Bevilling af …").

An editable assumption, kept as data an operator changes in the admin
(docs/borgerblikket.md, "Data quality").
"""

from django.db import migrations

LEAD_WORDS = [
    "Afgørelse", "Afslag", "Aftale", "Anmeldelse", "Anmodning", "Ansøgning", "Beslutning",
    "Bevilling", "Genoptagelse", "Henvendelse", "Høring", "Indkaldelse", "Klage",
    "Kvittering", "Opfølgning", "Ophør", "Orientering", "Partshøring", "Plan", "Referat",
    "Svar", "Sådan", "Tilbud", "Tilsagn", "Underretning", "Udbetaling", "Visitation",
    "Vurdering",
]  # fmt: skip


def seed(apps, schema_editor):
    LeadWord = apps.get_model("borgerblikket", "TitleLeadWord")
    for text in LEAD_WORDS:
        LeadWord.objects.get_or_create(text=text)


def unseed(apps, schema_editor):
    apps.get_model("borgerblikket", "TitleLeadWord").objects.filter(text__in=LEAD_WORDS).delete()


class Migration(migrations.Migration):
    dependencies = [("borgerblikket", "0003_titleleadword")]

    operations = [migrations.RunPython(seed, unseed)]
