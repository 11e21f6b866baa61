from django.db import migrations

# The referral event log is the source of the indicators and part of the audit trail: rows are
# appended, never changed or deleted (deleting a referral itself is refused by PROTECT elsewhere).
FORWARD = """
CREATE OR REPLACE FUNCTION referrals_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the referral event log is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER referrals_event_no_update_delete
    BEFORE UPDATE OR DELETE ON referrals_event
    FOR EACH ROW EXECUTE FUNCTION referrals_event_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS referrals_event_no_update_delete ON referrals_event;
DROP FUNCTION IF EXISTS referrals_event_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("referrals", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
