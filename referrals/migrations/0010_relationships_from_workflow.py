"""Existing care relationships get what need-to-know reads (referrals/workflow.py): the referral they
come from, the consent they rest on, the team they hold through, and an end where the person is no
longer involved (forwarded or reassigned away, declined, closed plus the grace period, cancelled,
entered in error, consent withdrawn). Coordinators become one row per referral for whoever coordinates
the receiving team now. Plain SQL: benchmark databases hold millions of rows."""

from django.conf import settings
from django.db import migrations

RECEIVING = "('referral_receiver', 'forwarded_to')"

FORWARD = [
    # The referral each row came from, and the consent it rests on.
    """UPDATE patients_carerelationship SET referral_id = substring(source FROM 10)::bigint
       WHERE source ~ '^referral:[0-9]+$' AND referral_id IS NULL""",
    """UPDATE patients_carerelationship c SET consent_id = r.consent_id
       FROM referrals_referral r WHERE c.referral_id = r.id AND c.consent_id IS NULL""",
    # The person the referral is with now holds through the receiving team; earlier receivers are done.
    f"""UPDATE patients_carerelationship c SET team_id = r.receiving_team_id
       FROM referrals_referral r
       WHERE c.referral_id = r.id AND c.kind IN {RECEIVING} AND c.user_id = r.receiver_id""",
    f"""UPDATE patients_carerelationship c
       SET ends_at = COALESCE(
             (SELECT max(e.at) FROM referrals_event e
              WHERE e.referral_id = r.id AND e.from_user_id = c.user_id
                AND e.kind IN ('forwarded', 'reassigned')),
             now()),
           ended_reason = 'forwarded'
       FROM referrals_referral r
       WHERE c.referral_id = r.id AND c.kind IN {RECEIVING} AND c.user_id <> r.receiver_id
         AND c.ends_at IS NULL""",
    # Coordinators: the per-person rows end; one row stands for whoever coordinates the team now.
    """UPDATE patients_carerelationship SET ends_at = now(), ended_reason = 'removed'
       WHERE kind = 'team_coordinator' AND user_id IS NOT NULL AND ends_at IS NULL""",
    """INSERT INTO patients_carerelationship
         (patient_id, user_id, team_id, referral_id, consent_id, kind, source, reason, starts_at, ends_at,
          ended_reason)
       SELECT r.patient_id, NULL, r.receiving_team_id, r.id, r.consent_id, 'team_coordinator',
              'referral:' || r.id, '', COALESCE(r.sent_at, r.created_at), NULL, ''
       FROM referrals_referral r
       WHERE r.status <> 'draft'
         AND NOT EXISTS (SELECT 1 FROM patients_carerelationship c
                         WHERE c.referral_id = r.id AND c.user_id IS NULL AND c.ends_at IS NULL)""",
    # Declined: the receiving side at once, the sender after the grace period.
    f"""UPDATE patients_carerelationship c SET ends_at = r.closed_at, ended_reason = 'declined'
       FROM referrals_referral r
       WHERE c.referral_id = r.id AND r.status = 'rejected' AND r.closed_at IS NOT NULL
         AND c.kind IN ('referral_receiver', 'forwarded_to', 'team_coordinator') AND c.ends_at IS NULL""",
    """UPDATE patients_carerelationship c
       SET ends_at = r.closed_at + make_interval(days => %(grace)s), ended_reason = 'closed'
       FROM referrals_referral r
       WHERE c.referral_id = r.id AND r.status IN ('rejected', 'completed') AND r.closed_at IS NOT NULL
         AND c.ends_at IS NULL""",
    """UPDATE patients_carerelationship c
       SET ends_at = COALESCE(r.closed_at, now()),
           ended_reason = CASE r.status WHEN 'cancelled' THEN 'cancelled' ELSE 'entered_in_error' END
       FROM referrals_referral r
       WHERE c.referral_id = r.id AND r.status IN ('cancelled', 'entered-in-error') AND c.ends_at IS NULL""",
    # Consent withdrawn: at the moment of withdrawal.
    """UPDATE patients_carerelationship c SET ends_at = k.withdrawn_at, ended_reason = 'consent_withdrawn'
       FROM patients_consent k
       WHERE c.consent_id = k.id AND k.withdrawn_at IS NOT NULL
         AND (c.ends_at IS NULL OR c.ends_at > k.withdrawn_at)""",
]


def forward(apps, schema_editor):
    grace = getattr(settings, "REFERRAL_ACCESS_GRACE_DAYS", 30)
    with schema_editor.connection.cursor() as cursor:
        for statement in FORWARD:
            cursor.execute(statement, {"grace": grace} if "%(grace)s" in statement else None)


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0009_referral_submission"),
        ("patients", "0002_need_to_know"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
