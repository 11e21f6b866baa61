"""Benchmark B3 (bench/README.md) as ordinary tests: the query counts of the busiest pages, pinned.

For each page the test counts the queries of one request with 10 rows of the page's kind and again
with 1,000, and asserts that (a) both counts are the same, so no query runs per row, and (b) they equal
the number pinned in `PINNED`, so a new query on a page that every professional opens many times a
day is a decision someone made, not an accident. `make bench` measures the same pages on a million
referrals; these tests keep the property in `make test`.

1,000 rows is more than any of these pages shows at once (the lists page by 20 to 50), so the second
count also covers the paginator. Rows are written with `bulk_create` (a few INSERTs per size), so the
file stays fast.
"""

import re
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from collab_hub.accounts.models import User
from collab_hub.notifications.models import Notification
from evaluations.models import Cycle, ImprovementProject
from referrals.models import Feedback, Referral, Status
from teams.models import Membership, Organisation, Profile, Service
from tests.evaluations.conftest import project  # noqa: F401 - fixture, requested by name
from tests.factories import OrganisationFactory, PatientFactory, TeamFactory, UserFactory
from tests.referrals.conftest import loop, make_referral  # noqa: F401 - `loop` is a fixture

pytestmark = pytest.mark.django_db

# Queries per request, whatever the number of rows. Changing a number here must be deliberate: say
# in the commit why the page needs the extra (or one fewer) query, and check that it is not per row.
PINNED = {
    # 8 of them prefetch the people and organisations of the page (see referrals.selectors); since
    # need-to-know (issue 16) also: is the viewer a coordinator (the "my team" tab), which teams they are
    # in (the list shows only their own referrals), the list's access-log row, and the count of referrals
    # closed within the grace period (the receiver still sees those).
    "inbox": 23,
    # Since need-to-know: the viewer's memberships (team-bound relationships), and the shared concerns
    # of each referral (one prefetch).
    "patient page": 30,
    "notifications": 11,
    "who's who": 14,
    "social map": 13,
    "project dashboard": 26,  # + the projects' scopes (selectors.ground_shared)
    # + the sums of the projects' ended cycles, which the shares are over (issue 23)
    "projects overview (admin)": 14,
    "projects overview (project lead)": 15,
}

FEW, MANY = 10, 1000


def _shape(sql: str) -> str:
    """A query without its values and numbered names (savepoints, cursors), so the same query with
    other ids counts as a repeat."""
    return re.sub(r"'[^']*'|\d+", "?", sql)[:300]


def _queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return [q["sql"] for q in ctx.captured_queries]


def assert_constant_and_pinned(
    name: str, client, url: str, add_rows: Callable[[int], object], *, warm_up: str | None = None
) -> int:
    """Count `url` with FEW and with MANY rows (`add_rows(n)` adds n more). Before each count the page
    (or `warm_up`) is requested once, so one-time work (the session, the process's lookup caches) is
    never counted at only one of the two sizes."""
    counted = {}
    for size, more in ((FEW, FEW), (MANY, MANY - FEW)):
        add_rows(more)
        _queries(client, warm_up or url)
        counted[size] = _queries(client, url)
    few, many = counted[FEW], counted[MANY]
    repeats = Counter(map(_shape, many)) - Counter(map(_shape, few))
    assert len(many) == len(few), (
        f"{name}: {len(few)} queries with {FEW} rows, {len(many)} with {MANY}; "
        f"queries that repeat with the rows: {dict(repeats)}"
    )
    assert len(many) == PINNED[name], f"{name}: {len(many)} queries, pinned {PINNED[name]}"
    return len(many)


def add_referrals(loop, n: int, vary: Callable[[int], dict] = lambda i: {}, **fields) -> None:  # noqa: F811
    """n referrals as `make_referral(loop, **fields)` writes them, in one INSERT: the columns of one
    referral made by make_referral, copied; `vary(i)` changes the i-th row."""
    template = make_referral(loop, **fields, **vary(0))
    columns = {
        f.attname: getattr(template, f.attname)
        for f in Referral._meta.concrete_fields
        if not f.primary_key and f.attname not in ("reference", "changed_xid")
    }
    Referral.objects.bulk_create(Referral(**{**columns, **vary(i)}) for i in range(1, n))


def spread_over_2026(i: int) -> dict:
    """A mix of outcomes, sent on a day of one of the project's months (both cycles)."""
    sent = timezone.make_aware(timezone.datetime(2026, 1 + i % 11, 3 + i % 20, 10))
    accepted = sent + timedelta(days=1 + i % 4)
    if i % 3 == 0:
        return {"sent_at": sent, "status": Status.REJECTED, "decline_reason": "no_capacity"}
    status = Status.COMPLETED if i % 3 == 1 else Status.IN_PROGRESS
    return {"sent_at": sent, "status": status, "accepted_at": accepted}


def test_inbox_of_the_receiver(client, loop):  # noqa: F811
    patients = [loop["patient"], *PatientFactory.create_batch(4, practice=loop["practice"])]
    statuses = [Status.REQUESTED, Status.ACCEPTED, Status.IN_PROGRESS]

    def add(n):
        add_referrals(loop, n, lambda i: {"patient": patients[i % 5], "status": statuses[i % 3]})

    client.force_login(loop["contact"])
    assert_constant_and_pinned("inbox", client, reverse("referrals:inbox") + "?box=received", add)
    assert Referral.objects.filter(receiver=loop["contact"]).count() == MANY


def test_patient_page_of_a_patient_with_many_referrals_and_feedback(client, loop):  # noqa: F811
    patient = loop["patient"]

    def add(n):
        add_referrals(
            loop, n, status=Status.IN_PROGRESS, accepted_at=timezone.now(), first_contact_at=timezone.now()
        )
        without = Referral.objects.filter(patient=patient, feedback__isnull=True)
        Feedback.objects.bulk_create(
            Feedback(
                referral=referral,
                kind=Feedback.Kind.PROGRESS,
                author=loop["contact"],
                created_at=timezone.now(),
                contact_method=Feedback.ContactMethod.PHONE,
                text="Het gaat beter; het budgetplan loopt.",
            )
            for referral in without
        )

    client.force_login(loop["gp"])
    assert_constant_and_pinned("patient page", client, reverse("patients:detail", args=[patient.pk]), add)
    assert Feedback.objects.filter(referral__patient=patient).count() == MANY


def test_notification_list(client, loop):  # noqa: F811
    user = loop["contact"]
    referral = make_referral(loop)

    def add(n):
        start = Notification.objects.count()
        Notification.objects.bulk_create(
            Notification(
                recipient=user,
                kind="referral_reminder",
                subject=f"Verwijzing {referral.reference} wacht op acceptatie",
                body="Bekijk de verwijzing in de hub.",
                link=reverse("referrals:detail", args=[referral.pk]),
                reference=referral.reference,
                dedupe_key=f"query-count:{user.pk}:{start + i}",
                read_at=timezone.now() if i % 2 else None,
            )
            for i in range(n)
        )

    client.force_login(user)
    assert_constant_and_pinned("notifications", client, reverse("notifications:list"), add)
    assert Notification.objects.filter(recipient=user).count() == MANY


def test_whos_who(client, loop):  # noqa: F811
    teams = [loop["team"], TeamFactory(organisation=loop["team"].organisation, name="Wijkteam West")]
    disciplines = ["social_worker", "wellbeing_coach", "debt_adviser"]

    def add(n):
        start = User.objects.count()
        users = User.objects.bulk_create(
            User(
                username=f"person{start + i}",
                first_name="Persoon",
                last_name=f"Nummer {start + i:04d}",
                email=f"person{start + i}@example.invalid",
                password="!",  # unusable: these people never log in
            )
            for i in range(n)
        )
        Profile.objects.bulk_create(
            Profile(user=u, discipline=disciplines[i % 3], helps_with="Geldzaken en wonen")
            for i, u in enumerate(users)
        )
        Membership.objects.bulk_create(Membership(team=teams[i % 2], user=u) for i, u in enumerate(users))

    people_before = User.objects.filter(profile__isnull=False).count()
    client.force_login(loop["gp"])
    assert_constant_and_pinned("who's who", client, reverse("teams:people"), add)
    assert User.objects.filter(profile__isnull=False).count() == people_before + MANY


def test_social_map(client, loop):  # noqa: F811
    organisations = OrganisationFactory.create_batch(3, kind=Organisation.Kind.VOLUNTEER_ORGANISATION)
    areas = [loop["areas"]["district"], loop["areas"]["north"]]
    today = timezone.localdate()

    def add(n):
        start = Service.objects.count()
        services = Service.objects.bulk_create(
            Service(
                organisation=organisations[i % 3],
                name=f"Dienst {start + i:04d}",
                description="Samen koken en eten in de buurt.",
                life_domains=["social_network", "finances"][: 1 + i % 2],
                contact_person=loop["contact"] if i % 2 else None,
                last_checked_on=today - timedelta(days=i % 400),
            )
            for i in range(n)
        )
        Service.areas.through.objects.bulk_create(
            Service.areas.through(service=s, area=areas[i % 2]) for i, s in enumerate(services)
        )

    client.force_login(loop["gp"])
    assert_constant_and_pinned("social map", client, reverse("teams:social_map"), add)
    assert Service.objects.count() == MANY


def test_project_dashboard(client, loop, project):  # noqa: F811
    # The referral aggregates are cached under a key made of the project's scope and the newest ids
    # (evaluations.selectors.referral_aggregates). Both counts are cold-cache counts: the rows added
    # before each count give a new newest referral id, hence a key nothing has read yet, and the
    # warm-up asks for cycle 1, another key. (Not `cache.clear()`: that flushes the whole test Redis
    # database, the Celery broker's queues included.)
    url = reverse("evaluations:dashboard", args=[project.pk])
    client.force_login(project.lead)
    cold = assert_constant_and_pinned(
        "project dashboard",
        client,
        url,
        lambda n: add_referrals(loop, n, spread_over_2026),
        warm_up=url + "?cycle=1",
    )
    assert Referral.objects.filter(receiving_team=loop["team"]).count() == MANY
    # The counts above were cold: the same view again reads the cache and needs fewer queries.
    assert len(_queries(client, url)) < cold


def test_projects_overview_as_admin(client, loop, project):  # noqa: F811
    admin = UserFactory(is_staff=True, is_superuser=True)
    add_referrals(loop, 20, spread_over_2026)  # some figures to show, the same for both sizes

    wanted = 0

    def add(n):
        nonlocal wanted
        wanted += n
        start = ImprovementProject.objects.count()  # the `project` fixture is one of the rows
        projects = ImprovementProject.objects.bulk_create(
            ImprovementProject(
                name=f"Project {i:04d}",
                aim="Sneller terugkoppelen",
                lead=project.lead,
                starts_on=date(2026, 1 + i % 6, 1),
                ends_on=date(2026, 12, 31),
            )
            for i in range(start, wanted)
        )
        ImprovementProject.teams.through.objects.bulk_create(
            ImprovementProject.teams.through(improvementproject=p, team=loop["team"]) for p in projects
        )
        Cycle.objects.bulk_create(
            Cycle(project=p, number=1, starts_on=p.starts_on, ends_on=date(2026, 12, 31)) for p in projects
        )

    client.force_login(admin)
    assert_constant_and_pinned("projects overview (admin)", client, reverse("evaluations:projects"), add)
    assert ImprovementProject.objects.count() == MANY


def test_projects_overview_as_project_lead(client, loop, project):  # noqa: F811
    client.force_login(project.lead)
    assert_constant_and_pinned(
        "projects overview (project lead)",
        client,
        reverse("evaluations:projects"),
        lambda n: add_referrals(loop, n, spread_over_2026),
    )
    assert Referral.objects.filter(receiving_team=loop["team"]).count() == MANY
