"""Corrections to 0010, found in review: a sender outside the practice and a consultation participant
hold their access through a team (so it ends when they leave it); participants no longer invited are
done; reassignments are told apart from forwards; declined or completed referrals without a closing
moment end too."""

from django.conf import settings
from django.db import migrations

FORWARD = [
    # Sender rows hold through the sender's team in the organisation they sent for.
    """UPDATE patients_carerelationship c
       SET team_id = (SELECT min(m.team_id) FROM teams_membership m JOIN teams_team t ON t.id = m.team_id
                      WHERE m.user_id = c.user_id AND t.organisation_id = r.sender_organisation_id)
       FROM referrals_referral r
       WHERE c.referral_id = r.id AND c.kind = 'referral_sender' AND c.team_id IS NULL""",
    # Participants hold through their team among the consultation's teams.
    """UPDATE patients_carerelationship c
       SET team_id = (SELECT min(m.team_id) FROM teams_membership m JOIN teams_team t ON t.id = m.team_id
                      JOIN patients_patient p ON p.id = r.patient_id
                      WHERE m.user_id = c.user_id
                        AND (t.id = r.receiving_team_id
                             OR (t.kind = 'practice'
                                 AND t.organisation_id IN (r.sender_organisation_id, p.practice_id))))
       FROM referrals_referral r
       WHERE c.referral_id = r.id AND c.kind = 'joint_consultation' AND c.team_id IS NULL""",
    # Rows that found no team: the person no longer works there; they are done.
    """UPDATE patients_carerelationship SET ends_at = now(), ended_reason = 'removed'
       WHERE kind IN ('referral_sender', 'joint_consultation') AND team_id IS NULL AND user_id IS NOT NULL
         AND ends_at IS NULL""",
    # Participants no longer invited.
    """UPDATE patients_carerelationship c SET ends_at = now(), ended_reason = 'removed'
       FROM referrals_jointconsultation j
       WHERE c.kind = 'joint_consultation' AND c.referral_id = j.referral_id AND c.ends_at IS NULL
         AND NOT EXISTS (SELECT 1 FROM referrals_jointconsultation_participants jp
                         WHERE jp.jointconsultation_id = j.id AND jp.user_id = c.user_id)""",
    # A handover by the coordinator was a reassignment, not a forward.
    """UPDATE patients_carerelationship c SET ended_reason = 'reassigned'
       WHERE c.ended_reason = 'forwarded'
         AND (SELECT e.kind FROM referrals_event e
              WHERE e.referral_id = c.referral_id AND e.from_user_id = c.user_id
                AND e.kind IN ('forwarded', 'reassigned')
              ORDER BY e.at DESC LIMIT 1) = 'reassigned'""",
    # Closed without a closing moment: from the last event on.
    """UPDATE patients_carerelationship c
       SET ends_at = COALESCE(r.completed_at,
                              (SELECT max(e.at) FROM referrals_event e WHERE e.referral_id = r.id), now())
                     + make_interval(days => %(grace)s),
           ended_reason = 'closed'
       FROM referrals_referral r
       WHERE c.referral_id = r.id AND r.status IN ('rejected', 'completed') AND r.closed_at IS NULL
         AND c.ends_at IS NULL""",
]


def forward(apps, schema_editor):
    grace = getattr(settings, "REFERRAL_ACCESS_GRACE_DAYS", 30)
    with schema_editor.connection.cursor() as cursor:
        for statement in FORWARD:
            cursor.execute(statement, {"grace": grace} if "%(grace)s" in statement else None)


class Migration(migrations.Migration):
    dependencies = [("referrals", "0010_relationships_from_workflow")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
