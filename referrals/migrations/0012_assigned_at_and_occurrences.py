"""Issue 18: the not-accepted clock restarts when a referral comes to a new receiver, and the acknowledge
and consultation-soon reminders get an occurrence, so they come round again (reopened and closed again,
a moved consultation). The SQL is written out here, not imported, so this migration stays as it was."""

from django.db import migrations, models

EPOCH = "(EXTRACT(EPOCH FROM {})*1000000)::bigint::text"

BACKFILL = f"""
UPDATE referrals_referral r SET assigned_at = e.at
FROM (
    SELECT referral_id, max(at) AS at FROM referrals_event
    WHERE kind IN ('forwarded', 'reassigned') GROUP BY referral_id
) e
WHERE e.referral_id = r.id;

UPDATE referrals_reminder m SET occurrence = {EPOCH.format("COALESCE(r.assigned_at, r.sent_at)")}
FROM referrals_referral r, referrals_reminderrule rule
WHERE m.referral_id = r.id AND m.rule_id = rule.id AND rule.trigger = 'not_accepted'
  AND m.occurrence = r.accept_by::text AND COALESCE(r.assigned_at, r.sent_at) IS NOT NULL;

UPDATE referrals_reminder m SET occurrence = {EPOCH.format("r.completed_at")}
FROM referrals_referral r, referrals_reminderrule rule
WHERE m.referral_id = r.id AND m.rule_id = rule.id AND rule.trigger = 'acknowledge'
  AND m.occurrence = '1' AND r.completed_at IS NOT NULL;

UPDATE referrals_reminder m SET occurrence = {EPOCH.format("c.scheduled_at")}
FROM referrals_jointconsultation c, referrals_reminderrule rule
WHERE m.referral_id = c.referral_id AND m.rule_id = rule.id AND rule.trigger = 'consultation_soon'
  AND m.occurrence = '1';
"""

WATCHED = (
    "status, sent_at, accepted_at, completed_at, acknowledged_at, accept_by, first_contact_by, feedback_by, "
    "pathway_id"
)
TRIGGER = """
DROP TRIGGER IF EXISTS referral_stamp_update ON referrals_referral;
CREATE TRIGGER referral_stamp_update BEFORE UPDATE OF {} ON referrals_referral
    FOR EACH ROW EXECUTE FUNCTION referral_stamp_change();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0011_relationships_review_fixes"),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="assigned_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="with the current receiver since"),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        # The sweep's change stamp (referrals/sweep_sql.py) now also watches assigned_at.
        migrations.RunSQL(TRIGGER.format(WATCHED + ", assigned_at"), TRIGGER.format(WATCHED)),
    ]
