from django.db import migrations


def install(apps, schema_editor):
    from evaluations.instrument_seed import install_instruments

    install_instruments(apps)


class Migration(migrations.Migration):
    dependencies = [("evaluations", "0003_instruments")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
