from django.conf import settings
from django.db import migrations

from referrals import inbox_tally
from referrals.tally import functions_sql

# The tally triggers lock the referrals of new reminders before counting them at their key, and move a
# referral between keys in one ordered upsert (no deadlock between two opposite moves).
class Migration(migrations.Migration):
    dependencies = [("referrals", "0007_inbox_tally")]

    operations = [
        migrations.RunSQL(functions_sql(settings.TIME_ZONE), migrations.RunSQL.noop),
        migrations.RunSQL(inbox_tally.FUNCTIONS, migrations.RunSQL.noop),
    ]
