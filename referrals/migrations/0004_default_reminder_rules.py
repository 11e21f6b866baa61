from django.db import migrations

from referrals.reminder_defaults import DEFAULT_REMINDER_RULES, install_default_reminder_rules


def create(apps, schema_editor):
    install_default_reminder_rules(apps.get_model("referrals", "ReminderRule"))


def remove(apps, schema_editor):
    names = [name for name, *_ in DEFAULT_REMINDER_RULES]
    apps.get_model("referrals", "ReminderRule").objects.filter(name__in=names, pathway=None).delete()


class Migration(migrations.Migration):
    dependencies = [("referrals", "0003_reminderrule_reminder")]

    operations = [migrations.RunPython(create, remove)]
