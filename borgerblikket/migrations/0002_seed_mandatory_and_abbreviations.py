"""Default list of mandatory KLE numbers (ØA 2020) and of abbreviations titles must avoid.

Both are editable assumptions, kept as data an operator changes in the admin
(docs/borgerblikket.md explains the choice). KOMBIT publishes the mandatory
*areas*, not KLE numbers; these are the 2015 KLE emner of those areas.
"""

from django.db import migrations

MANDATORY = [
    ("15.17.06", "Sygedagpenge", "Sygedagpengeopfølgning"),
    ("32.30.04", "Sygedagpenge", "Udbetaling af sygedagpenge"),
    ("32.24.04", "Kontanthjælp", "Hjælp til forsørgelse (kontanthjælp mv.)"),
    ("32.24.32", "Uddannelseshjælp", "Uddannelseshjælp"),
    ("15.17.12", "Revalidering", "Revalidering"),
    ("32.24.08", "Revalidering", "Revalideringsydelse"),
    ("32.24.28", "Ressourceforløbsydelse", "Ressourceforløbsydelse, ressourceforløb"),
    ("32.24.30", "Ressourceforløbsydelse", "Ressourceforløbsydelse, jobafklaringsforløb"),
    ("32.24.12", "Ledighedsydelse", "Ledighedsydelse"),
    ("32.27.10", "Fleksløntilskud", "Fleksløntilskud"),
]

ABBREVIATIONS = [
    "bl.a", "ca", "dvs", "evt", "f.eks", "fx", "hhv", "iflg", "ift", "ifm", "inkl",
    "jf", "mht", "mv", "m.m", "nr", "pga", "tlf", "vedr", "vha", "osv", "ang",
]


def seed(apps, schema_editor):
    Mandatory = apps.get_model("borgerblikket", "MandatoryKleNumber")
    Abbreviation = apps.get_model("borgerblikket", "TitleAbbreviation")
    for number, area, note in MANDATORY:
        Mandatory.objects.get_or_create(kle_number=number, defaults={"area": area, "note": note})
    for text in ABBREVIATIONS:
        Abbreviation.objects.get_or_create(text=text)


def unseed(apps, schema_editor):
    apps.get_model("borgerblikket", "MandatoryKleNumber").objects.filter(
        kle_number__in=[n for n, _, _ in MANDATORY]
    ).delete()
    apps.get_model("borgerblikket", "TitleAbbreviation").objects.filter(
        text__in=ABBREVIATIONS
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("borgerblikket", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
