"""The trigger that stamps a referral with the transaction that last changed what reminder rules look at.

`changed_xid` is that transaction's id (pg_current_xact_id). A sweep notes the oldest transaction still
running when it starts (pg_snapshot_xmin): a referral stamped with an older id was committed before
the sweep looked, so the sweep saw it. The next sweep on the same day needs to look only at referrals
stamped with that id or a newer one (referrals.reminders). Updates of other columns do not fire it.
"""

# As migration 0006 created the trigger; migration 0012 added assigned_at (when a referral came to its
# receiver) to the columns that fire it.
WATCHED = (
    "status",
    "sent_at",
    "accepted_at",
    "completed_at",
    "acknowledged_at",
    "accept_by",
    "first_contact_by",
    "feedback_by",
    "pathway_id",
)

FORWARD = f"""
CREATE FUNCTION referral_stamp_change() RETURNS trigger AS $$
BEGIN
    NEW.changed_xid := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END; $$ LANGUAGE plpgsql;

CREATE TRIGGER referral_stamp_insert BEFORE INSERT ON referrals_referral
    FOR EACH ROW EXECUTE FUNCTION referral_stamp_change();
CREATE TRIGGER referral_stamp_update BEFORE UPDATE OF {", ".join(WATCHED)} ON referrals_referral
    FOR EACH ROW EXECUTE FUNCTION referral_stamp_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS referral_stamp_insert ON referrals_referral;
DROP TRIGGER IF EXISTS referral_stamp_update ON referrals_referral;
DROP FUNCTION IF EXISTS referral_stamp_change();
"""
