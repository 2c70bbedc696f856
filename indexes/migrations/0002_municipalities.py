"""Load Denmark's 98 municipalities."""

from django.db import migrations


def load(apps, schema_editor):
    from indexes.municipalities import MUNICIPALITIES

    Municipality = apps.get_model("indexes", "Municipality")
    for code, name in MUNICIPALITIES:
        Municipality.objects.update_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("indexes", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
