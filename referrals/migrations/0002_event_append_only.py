from django.db import migrations

from collab_hub.core.db import append_only_sql

# The referral event log is the source of the indicators and part of the audit trail: rows are
# appended, never changed or deleted.
FORWARD, BACKWARD = append_only_sql("referrals_event", "referrals_event")


class Migration(migrations.Migration):
    dependencies = [("referrals", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
