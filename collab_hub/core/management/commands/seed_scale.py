"""`manage.py seed_scale --referrals N [--seed S]`: the benchmark data set (see bench/README.md)."""

import io
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from collab_hub.accounts.demo import demo_keys_replace
from collab_hub.core.scale import assert_bench_database, insert_select
from collab_hub.core.workdays import due_cutoff

SCALE_PREFIX = "S"  # references of scale referrals: S0000000001 …


def scale_referrals() -> int:
    from referrals.models import Referral

    return Referral.objects.filter(reference__startswith=SCALE_PREFIX).count()


class Command(BaseCommand):
    help = "Load N referrals (with patients and events) into the benchmark database, deterministically."

    def add_arguments(self, parser):
        parser.add_argument("--referrals", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, referrals: int, seed: int, **options):
        try:
            name = assert_bench_database()
        except RuntimeError as error:
            raise CommandError(str(error)) from error
        if referrals < 20:
            raise CommandError("Use at least 20 referrals.")
        # Its servers run in production mode, which refuses the demo's published authenticator key.
        demo_keys_replace()
        existing = scale_referrals()
        if existing == referrals and self._loaded_today():
            self.stdout.write(f"{name} already holds {referrals} scale referrals; nothing to do.")
            return
        if existing == referrals:
            # Due dates are relative to the day of loading: on a later day more than 10 % would be due.
            raise CommandError(f"{name} was loaded on an earlier day; drop and recreate it.")
        if existing:
            raise CommandError(
                f"{name} holds {existing} scale referrals; drop and recreate it for {referrals}."
            )
        call_command("seed_demo", "--force", stdout=io.StringIO())  # the district, people, pathways, project
        demo_keys_replace()
        with transaction.atomic():
            self._load(referrals, seed)
        with connection.cursor() as cursor:
            # VACUUM as well: index-only scans need the visibility map a fresh bulk load lacks.
            cursor.execute("VACUUM ANALYZE")
        self.stdout.write(f"Loaded {referrals} referrals into {name}.")

    @staticmethod
    def _loaded_today() -> bool:
        from django.db.models import Max

        from patients.models import Patient

        loaded = Patient.objects.filter(pseudonym__startswith="B-").aggregate(t=Max("created_at"))["t"]
        return loaded is not None and timezone.localdate(loaded) == timezone.localdate()

    @staticmethod
    def _not_accepted_steps() -> tuple[int, int]:
        """Working days of the first not-accepted reminder and of the escalation after it."""
        from referrals.models import ReminderRule

        days = sorted(
            ReminderRule.objects.filter(
                active=True, pathway=None, trigger=ReminderRule.Trigger.NOT_ACCEPTED
            ).values_list("days", flat=True)
        )
        if len(days) < 2:
            raise CommandError("The benchmark needs the two default not-accepted reminder rules.")
        return days[0], days[1]

    def _load(self, n: int, seed: int) -> None:
        from referrals.models import Pathway
        from teams.models import Membership, Organisation, Team

        users = {u.username: u.pk for u in get_user_model().objects.all()}
        practice = Organisation.objects.filter(
            kind__in=Organisation.PRIMARY_CARE, teams__memberships__user_id=users["huisarts"]
        ).first()
        team = Team.objects.get(kind=Team.Kind.SOCIAL_WELFARE)
        receivers = list(
            Membership.objects.filter(team=team).order_by("user_id").values_list("user_id", flat=True)
        )
        pathways = list(
            Pathway.objects.filter(direction=Pathway.Direction.TO_SOCIAL)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        patients = max(20, n // 4)
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM patients_patient")
            first_patient = cursor.fetchone()[0] + 1
        insert_select(
            "patients.Patient",
            {
                "first_name": "'Schaal'",
                "last_name": "'Patiënt ' || i",
                "date_of_birth": "DATE '1940-01-01' + (i % 25000)",
                "postcode": "'6531 AB'",
                "phone": "''",
                "email": "''",
                "preferred_language": "'nl'",
                "practice_id": str(practice.pk),
                "bsn": "''",
                "perspectives": "'{}'",
                "is_high_user": "i % 10 = 0",
                "high_user_since": "CASE WHEN i % 10 = 0 THEN DATE '2025-01-01' END",
                "high_user_reason": "''",
                "pseudonym": "'B-' || lpad(to_hex(i), 8, '0')",
                "created_at": "now()",
            },
            f"FROM generate_series(1, {patients}) AS i",
        )
        # Statuses by i % 10, all open (the sweep's worst case): 0 requested and waiting past the first
        # not-accepted step but not yet the escalation (exactly one reminder due: 10 %); 9 requested
        # today; 8 accepted today; 1–7 in progress with feedback due later. The due window comes from
        # the working-day calendar, so the share due is exact whatever weekday the bench runs on.
        today = timezone.localdate()
        first_step, escalation = self._not_accepted_steps()
        latest_due = due_cutoff(today, first_step)
        earliest_due = due_cutoff(today, escalation) + timedelta(days=1)
        window = (latest_due - earliest_due).days + 1
        receiver_array = "ARRAY[" + ",".join(map(str, receivers)) + "]"
        pathway_array = "ARRAY[" + ",".join(map(str, pathways)) + "]"
        sent = (
            f"CASE WHEN i % 10 = 0 THEN (DATE '{earliest_due.isoformat()}' + (i / 10) % {window}) "
            "+ time '09:00' + ((i % 480) || ' minutes')::interval "
            "WHEN i % 10 IN (8, 9) THEN now() - interval '1 hour' "
            "ELSE now() - ((30 + i % 700) || ' days')::interval END"
        )
        insert_select(
            "referrals.Referral",
            {
                "reference": f"'{SCALE_PREFIX}' || lpad(i::text, 10, '0')",
                # The first 20 referrals go to one patient, for the patient-page benchmark.
                "patient_id": f"{first_patient} + CASE WHEN i <= 20 THEN 0 ELSE i % {patients} END",
                "pathway_id": f"({pathway_array})[1 + i % {len(pathways)}]",
                "sender_id": str(users["huisarts"]),
                "sender_organisation_id": str(practice.pk),
                "receiving_team_id": str(team.pk),
                "receiver_id": f"({receiver_array})[1 + (i / 7) % {len(receivers)}]",
                "assigned_via": "'contact'",
                "letter": "'{}'::jsonb",
                "urgency": "'routine'",
                "status": (
                    "CASE WHEN i % 10 IN (0, 9) THEN 'requested' WHEN i % 10 = 8 THEN 'accepted' "
                    "ELSE 'in-progress' END"
                ),
                "decline_reason": "''",
                "decline_note": "''",
                "created_at": f"{sent}",
                "sent_at": f"{sent}",
                "accepted_at": (
                    "CASE WHEN i % 10 IN (0, 9) THEN NULL "
                    "WHEN i % 10 = 8 THEN now() - interval '30 minutes' "
                    f"ELSE ({sent}) + interval '1 day' END"
                ),
                "first_contact_at": f"CASE WHEN i % 10 BETWEEN 1 AND 7 THEN ({sent}) + interval '3 days' END",
                "accept_by": f"(({sent})::date + 2)",
                "first_contact_by": "CURRENT_DATE + 30",
                "feedback_by": "CURRENT_DATE + 30",
            },
            f"FROM generate_series(1, {n}) AS i",
        )
        scale = f"FROM referrals_referral r WHERE r.reference LIKE '{SCALE_PREFIX}%'"
        event = {"actor_id": "r.sender_id", "from_user_id": "NULL", "to_user_id": "NULL", "note": "''"}
        insert_select(
            "referrals.Event",
            {
                **event,
                "referral_id": "r.id",
                "at": "r.sent_at",
                "kind": "'sent'",
                "from_status": "'draft'",
                "to_status": "'requested'",
            },
            scale,
        )
        insert_select(
            "referrals.Event",
            {
                **event,
                "referral_id": "r.id",
                "at": "r.accepted_at",
                "kind": "'accepted'",
                "from_status": "'requested'",
                "to_status": "'accepted'",
                "actor_id": "r.receiver_id",
            },
            scale + " AND r.accepted_at IS NOT NULL",
        )
        insert_select(
            "referrals.Event",
            {
                **event,
                "referral_id": "r.id",
                "at": "r.first_contact_at",
                "kind": "'first_contact'",
                "from_status": "'accepted'",
                "to_status": "'in-progress'",
                "actor_id": "r.receiver_id",
            },
            scale + " AND r.first_contact_at IS NOT NULL",
        )
        # The reminders of earlier feedback periods of the referrals in progress, as the sweep would have
        # made them: the reminder table holds history the second sweep must not be confused by.
        from referrals.models import ReminderRule

        feedback_rule = ReminderRule.objects.filter(
            trigger=ReminderRule.Trigger.FEEDBACK_DUE, pathway=None
        ).first()
        insert_select(
            "referrals.Reminder",
            {
                "referral_id": "r.id",
                "rule_id": str(feedback_rule.pk),
                "occurrence": "((r.sent_at)::date + 42)::text",
                "created_at": "r.sent_at + interval '42 days'",
            },
            scale + " AND r.status = 'in-progress' AND r.sent_at < now() - interval '50 days'",
        )
