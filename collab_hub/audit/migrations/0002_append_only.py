from django.db import migrations

# The access log is append-only at the database level: rows can be inserted, never updated or
# deleted, whatever code (or admin) tries. TRUNCATE stays possible for the table owner (test
# database teardown); production should run the app as a role that does not own the table.
FORWARD = """
CREATE OR REPLACE FUNCTION audit_access_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the access log is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_access_log_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_accesslogentry
    FOR EACH ROW EXECUTE FUNCTION audit_access_log_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_access_log_no_update_delete ON audit_accesslogentry;
DROP FUNCTION IF EXISTS audit_access_log_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
