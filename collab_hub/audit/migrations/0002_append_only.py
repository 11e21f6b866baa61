from django.db import migrations

from collab_hub.core.db import append_only_sql

# The access log is append-only at the database level: rows can be inserted, never updated or
# deleted, whatever code (or admin) tries.
FORWARD, BACKWARD = append_only_sql("audit_accesslogentry", "audit_access_log")


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
