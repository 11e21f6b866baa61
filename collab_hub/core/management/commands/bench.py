"""`manage.py bench`: the benchmarks of bench/README.md, as ratios against references measured in the
same run (alternating, medians), written to bench/results.json. Runs only on a benchmark database."""

import json
import statistics
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from collab_hub.accounts.testing import pass_second_factor
from collab_hub.core.scale import assert_bench_database


def verified_client(user) -> Client:
    """A logged-in client whose session has passed the second factor, as after a real log-in."""
    client = Client()
    client.force_login(user)
    pass_second_factor(client, user)
    return client


def alternate(measure, reference, repeats: int) -> tuple[float, float]:
    """Median seconds of `measure` and of `reference`, run alternately so both see the same noise."""
    a, b = [], []
    for _ in range(repeats):
        for fn, out in ((measure, a), (reference, b)):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return statistics.median(a), statistics.median(b)


def get_ok(client: Client, url: str):
    def run():
        response = client.get(url)
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}")

    return run


def get_page(client: Client, url: str) -> str:
    response = client.get(url)
    if response.status_code != 200:
        raise CommandError(f"{url} answered {response.status_code}")
    return response.content.decode()


def sql_count() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM referrals_referral")
        cursor.fetchone()


class Command(BaseCommand):
    help = "Run the benchmarks against the benchmark database and write bench/results.json."

    def add_arguments(self, parser):
        parser.add_argument("--repeats", type=int, default=15)
        parser.add_argument("--out", default=str(Path(settings.BASE_DIR) / "bench" / "results.json"))
        parser.add_argument(
            "--query-counts-only", action="store_true", help="Write B3's query counts to --out and stop."
        )
        parser.add_argument("--compare-counts", help="B3: the --query-counts-only output of a smaller N.")
        parser.add_argument("--load-seconds", type=int, default=10, help="B8: seconds per wrk run")
        parser.add_argument("--load-repeats", type=int, default=3, help="B8: alternating runs per page")
        parser.add_argument(
            "--web-first", type=int, default=100, help="B9: inbox requests before the first reading"
        )
        parser.add_argument("--web-requests", type=int, default=10_000, help="B9: inbox requests in all")
        parser.add_argument(
            "--worker-first", type=int, default=1_000, help="B9: e-mails before the first reading"
        )
        parser.add_argument("--worker-emails", type=int, default=100_000, help="B9: e-mails delivered in all")

    def handle(self, *args, repeats: int, out: str, **options):
        try:
            assert_bench_database()
        except RuntimeError as error:
            raise CommandError(str(error)) from error
        from evaluations.models import ImprovementProject
        from patients.models import Patient
        from referrals.models import Referral

        # Autovacuum's steady state: an earlier run's rolled-back sweep leaves dead rows and clears the
        # visibility map, which a production table would not carry for long.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        users = {u.username: u for u in get_user_model().objects.all()}
        n = Referral.objects.count()
        receiver_id = (
            Referral.objects.filter(reference__startswith="S").values_list("receiver_id", flat=True).first()
        )
        receiver = get_user_model().objects.get(pk=receiver_id)
        gp = users["huisarts"]
        busy_patient = (
            Patient.objects.filter(pseudonym="B-00000001").first()
            or Patient.objects.filter(referrals__isnull=False).first()
        )
        # A scale patient like the busy one with a few referrals (a page without any skips its
        # prefetches, which says nothing about growth with rows).
        quiet_patient = Patient.objects.filter(pseudonym="B-00000002").first() or busy_patient
        project = ImprovementProject.objects.order_by("pk").first()
        ping = "/ping/"
        results = []

        def record(bench_id, what, value, target, passed, **reference):
            results.append(
                {
                    "id": bench_id,
                    "what": what,
                    "value": value,
                    "target": target,
                    "pass": passed,
                    "n": n,
                    **reference,
                }
            )
            self._write(out, results)  # what was measured so far survives a later failure

        if options["query_counts_only"]:
            counts = self._query_counts(users, receiver, busy_patient, quiet_patient, project)
            Path(out).write_text(json.dumps({"n": n, "counts": counts}, indent=2))
            self.stdout.write(f"B3 query counts at N = {n} written to {out}")
            return
        as_receiver, as_gp = verified_client(receiver), verified_client(gp)
        inbox = "/referrals/?box=received"
        t_inbox, t_ping = alternate(get_ok(as_receiver, inbox), get_ok(as_receiver, ping), repeats)
        ratio = t_inbox / t_ping
        record(
            "B1",
            "inbox ÷ trivial view (median s)",
            round(ratio, 2),
            "≤ 50×",
            ratio <= 50,
            inbox_s=t_inbox,
            trivial_s=t_ping,
        )

        patient_page = f"/patients/{busy_patient.pk}/"
        t_patient, t_ping = alternate(get_ok(as_gp, patient_page), get_ok(as_gp, ping), repeats)
        ratio = t_patient / t_ping
        record(
            "B2",
            "patient page ÷ trivial view",
            round(ratio, 2),
            "≤ 30×",
            ratio <= 30,
            page_s=t_patient,
            trivial_s=t_ping,
        )

        counts = self._query_counts(users, receiver, busy_patient, quiet_patient, project)
        same = (
            counts["inbox (busy receiver)"] == counts["inbox (quiet receiver)"]
            and counts["patient page (busy)"] == counts["patient page (quiet)"]
        )
        reference = {}
        if options["compare_counts"]:
            reference = json.loads(Path(options["compare_counts"]).read_text())
            same = same and reference["counts"] == counts
        record(
            "B3",
            "query counts: busy vs quiet, and this N vs a small N",
            counts,
            "identical",
            same,
            small_n=reference.get("n"),
            small_counts=reference.get("counts"),
        )

        dashboard = f"/evaluations/{project.pk}/"
        t_dash, t_count = alternate(
            get_ok(verified_client(project.lead), dashboard), sql_count, max(3, repeats // 3)
        )
        ratio = t_dash / t_count
        record(
            "B4",
            "project dashboard ÷ count(*) over referrals",
            round(ratio, 2),
            "≤ 4×",
            ratio <= 4,
            dashboard_s=t_dash,
            count_s=t_count,
        )

        # The same dashboard on a cold cache: the first view after any change pays the full aggregate.
        from django.core.cache import cache

        def cold_dashboard():
            cache.clear()
            get_ok(verified_client(project.lead), dashboard)()

        t_cold, t_count = alternate(cold_dashboard, sql_count, 3)
        results[-1].update(cold_dashboard_s=t_cold, cold_ratio=round(t_cold / t_count, 2))

        admin = users["beheerder"]  # an admin sees every project
        overview = "/evaluations/"
        t_overview, t_count = alternate(get_ok(verified_client(admin), overview), sql_count, repeats)
        ratio = t_overview / t_count
        record(
            "B5",
            "organisation-wide overview (all projects) ÷ count(*) over referrals",
            round(ratio, 2),
            "≤ 1×",
            ratio <= 1,
            overview_s=t_overview,
            count_s=t_count,
        )
        record(
            "SC",
            "spot checks against SQL",
            self._spot_checks(as_receiver, inbox, receiver, project),
            "all true",
            None,
        )
        results[-1]["pass"] = all(results[-1]["value"].values())
        self._sweeps(record)
        # The rolled-back sweep cleared the visibility map again; the servers get autovacuum's state too.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        self._servers(record, receiver, options)

        self._write(out, results)
        self.stdout.write(f"{'id':4} {'value':>10} {'target':>8} {'pass':>5}  what")
        for r in results:
            value = r["value"] if not isinstance(r["value"], dict) else "see json"
            self.stdout.write(f"{r['id']:4} {value!s:>10} {r['target']:>8} {r['pass']!s:>5}  {r['what']}")
        self.stdout.write(f"Written to {out}")

    @staticmethod
    def _write(out: str, results: list[dict]) -> None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(
            json.dumps({"measured_at": timezone.now().isoformat(), "results": results}, indent=2, default=str)
        )

    def _servers(self, record, receiver, options) -> None:
        """B8 and B9 against the production commands (gunicorn, Celery worker) in their own processes."""
        from collab_hub.core import bench_server

        load = bench_server.throughput(
            user=receiver, duration=options["load_seconds"], repeats=options["load_repeats"], connections=8
        )
        record(
            "B8",
            "inbox rps ÷ trivial rps under gunicorn (wrk, 8 connections); p95 ratio alongside",
            round(load["rps_ratio"], 4),
            "≥ 1/15",
            load["rps_ratio"] >= 1 / 15,
            **load,
        )
        web = bench_server.web_memory(
            user=receiver, first=options["web_first"], total=options["web_requests"]
        )
        worker = bench_server.worker_memory(
            recipient=receiver, first=options["worker_first"], total=options["worker_emails"]
        )
        ratio = max(web["ratio"], worker["ratio"])
        record(
            "B9",
            "peak RSS: web worker after all ÷ after the first requests; Celery worker the same for e-mails",
            round(ratio, 3),
            "≤ 1.2× each",
            web["ratio"] <= 1.2 and worker["ratio"] <= 1.2,
            web=web,
            worker=worker,
        )
        record(
            "B10",
            "e-mails delivered per second by one Celery worker (dummy backend), batches after commit",
            round(worker["emails_per_s"], 1),
            "≥ 1,000/s",
            worker["emails_per_s"] >= 1000,
            emails=worker["total"] - worker["first"],
        )

    def _query_counts(self, users, receiver, busy_patient, quiet_patient, project) -> dict:
        """Queries per page; the dashboard both on a cold cache (first view after a change) and warm."""
        from django.core.cache import cache

        as_receiver, as_gp, as_lead = (
            verified_client(u) for u in (receiver, users["huisarts"], project.lead)
        )
        dashboard = f"/evaluations/{project.pk}/"
        counts = {}
        for name, client, url in (
            ("inbox (busy receiver)", as_receiver, "/referrals/?box=received"),
            ("inbox (quiet receiver)", verified_client(users["welzijnscoach"]), "/referrals/?box=received"),
            ("patient page (busy)", as_gp, f"/patients/{busy_patient.pk}/"),
            ("patient page (quiet)", as_gp, f"/patients/{quiet_patient.pk}/"),
            ("notifications", as_receiver, "/notifications/"),
            ("who's who", as_gp, "/people/"),
            ("social map", as_gp, "/social-map/"),
            ("project dashboard (cold)", as_lead, dashboard),
            ("project dashboard (warm)", as_lead, dashboard),
            ("projects overview", as_lead, "/evaluations/"),
        ):
            if name == "project dashboard (cold)":
                cache.clear()
            with CaptureQueriesContext(connection) as queries:
                get_ok(client, url)()
            counts[name] = len(queries.captured_queries)
        return counts

    def _spot_checks(self, client, inbox, receiver, project) -> dict:
        """What the pages say, against SQL written independently of the selectors."""
        import re

        from evaluations.selectors import dashboard as dashboard_data
        from referrals.tally import differences

        html = get_page(client, inbox)
        shown_count = re.search(r'<p role="status"[^>]*>([^<]*)</p>', html)
        rows = html.split('data-testid="inbox"', 1)[-1].split("</table>", 1)[0].count("<tr") - 1
        cycle = project.cycles.order_by("-number").first()
        with connection.cursor() as cursor:
            # The receiver's inbox: referrals with them in a team they are in, while the receiving side is
            # involved (open, or completed within the grace period: referrals/workflow.py).
            cursor.execute(
                "SELECT count(*) FROM referrals_referral r "
                "WHERE r.receiver_id = %s "
                "AND r.receiving_team_id IN (SELECT team_id FROM teams_membership WHERE user_id = %s) "
                "AND (r.status IN ('requested', 'accepted', 'in-progress', 'on-hold') "
                "     OR (r.status = 'completed' AND r.closed_at > now() - make_interval(days => %s)))",
                [receiver.pk, receiver.pk, settings.REFERRAL_ACCESS_GRACE_DAYS],
            )
            inbox_sql = cursor.fetchone()[0]
            teams = list(project.teams.values_list("pk", flat=True))
            pathways = list(project.pathways.values_list("pk", flat=True))
            cursor.execute(
                "SELECT count(*) FROM referrals_referral WHERE status <> 'entered-in-error' "
                "AND (sent_at AT TIME ZONE %s)::date BETWEEN %s AND %s "
                "AND (cardinality(%s::int[]) = 0 OR receiving_team_id = ANY(%s::int[])) "
                "AND (cardinality(%s::int[]) = 0 OR pathway_id = ANY(%s::int[]))",
                [settings.TIME_ZONE, cycle.starts_on, cycle.ends_on, teams, teams, pathways, pathways],
            )
            cycle_sql = cursor.fetchone()[0]
            cursor.execute("SELECT coalesce(sum(sent), 0) FROM referrals_referraltally")
            tally_sent = cursor.fetchone()[0]
            cursor.execute(
                "SELECT count(*) FROM referrals_referral "
                "WHERE status <> 'entered-in-error' AND sent_at IS NOT NULL"
            )
            sent_sql = cursor.fetchone()[0]
        data = dashboard_data(project=project, cycle_number=cycle.number)
        return {
            "inbox count": bool(shown_count) and int(re.sub(r"\D", "", shown_count.group(1))) == inbox_sql,
            "inbox rows shown": rows == min(50, inbox_sql),
            "dashboard referrals in the cycle": data["rows"][0]["value"] == cycle_sql,
            "tally equals a recount": differences() == [] and tally_sent == sent_sql,
        }

    def _sweeps(self, record) -> None:
        """B6/B7 inside a transaction that is rolled back, so the data set stays as loaded."""
        from referrals.models import Referral, Reminder, ReminderRule
        from referrals.reminders import due_referrals, sweep

        now = timezone.now()
        with transaction.atomic():
            rules = list(ReminderRule.objects.filter(active=True))
            due = sum(due_referrals(rule, now).count() for rule in rules)
            due_pks = due_referrals(rules[0], now).values("pk")
            for rule in rules[1:]:
                due_pks = due_pks.union(due_referrals(rule, now).values("pk"))
            start = time.perf_counter()
            touched = Referral.objects.filter(pk__in=due_pks).update(urgency="routine")

            t_update = time.perf_counter() - start
            before = Reminder.objects.count()
            start = time.perf_counter()
            sweep(now, full=True)  # the day's first sweep: every referral looked at
            t_sweep = time.perf_counter() - start
            created = Reminder.objects.count() - before
            duplicates = (
                Reminder.objects.values("referral", "rule", "occurrence")
                .order_by()
                .annotate(n=Count("pk"))
                .filter(n__gt=1)
                .count()
            )
            ratio = t_sweep / t_update if t_update else None
            record(
                "B6",
                "reminder sweep ÷ one UPDATE of the due rows",
                round(ratio, 2) if ratio else None,
                "≤ 6×",
                bool(ratio and ratio <= 6 and created == due and duplicates == 0),
                sweep_s=t_sweep,
                update_s=t_update,
                due=due,
                referrals_touched=touched,
                created=created,
                duplicates=duplicates,
            )
            start = time.perf_counter()
            again = sweep(now)  # later the same day: only referrals changed since
            t_again = time.perf_counter() - start
            record(
                "B7",
                "second sweep: new reminders, time ÷ first sweep",
                round(t_again / t_sweep, 4) if t_sweep else None,
                "0 new, ≤ 1%",
                again == 0 and t_sweep > 0 and t_again / t_sweep <= 0.01,
                new=again,
                second_s=t_again,
            )
            transaction.set_rollback(True)
