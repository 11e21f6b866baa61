"""Script payloads stored in every free-text field come back escaped on every page and partial."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from evaluations.models import Cycle, DoLogEntry, ImprovementProject, MeetingFinding, ReflectionMeeting
from referrals.models import Feedback, Message, Status
from tests.factories import ProfessionalFactory
from tests.referrals.conftest import loop, make_referral  # noqa: F401 - the fixture is used by name

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "<script>alert('xss')</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg onload=alert(2)>",
    "</textarea><iframe src=javascript:alert(3)>",
]
TEXT = " ".join(PAYLOADS)


def assert_escaped(html: str, where: str) -> None:
    for payload in PAYLOADS:
        assert payload not in html, (where, payload)
    assert "onerror=alert(1)&gt;" in html or "&lt;script&gt;" in html, (where, "payload not shown at all")


def test_payloads_render_escaped_everywhere(client, loop):  # noqa: F811
    patient = loop["patient"]
    patient.first_name = PAYLOADS[0]
    patient.last_name = PAYLOADS[1]
    patient.save()
    patient.concerns.update(description=TEXT)
    loop["consent"].note = PAYLOADS[2][:300]
    loop["consent"].save()
    referral = make_referral(
        loop,
        status=Status.IN_PROGRESS,
        letter={"question": TEXT, "wish": TEXT, "complaint": TEXT},
        decline_note=PAYLOADS[3],
    )
    Message.objects.create(referral=referral, author=loop["contact"], text=TEXT)
    Feedback.objects.create(
        referral=referral, kind="progress", author=loop["contact"], text=TEXT, created_at=timezone.now()
    )
    profile = loop["contact"].profile
    profile.introduction = TEXT
    profile.helps_with = TEXT
    profile.save()

    lead = ProfessionalFactory(profile__discipline="project_lead")
    project = ImprovementProject.objects.create(
        name=PAYLOADS[0],
        aim=TEXT,
        shared_vision=TEXT,
        lead=lead,
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
    )
    cycle = Cycle.objects.create(
        project=project,
        number=1,
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 6, 30),
        objective=TEXT,
        change_to_test=TEXT,
        measures=TEXT,
        phase="do",
        lessons=TEXT,
    )
    DoLogEntry.objects.create(cycle=cycle, on=date(2026, 2, 1), text=TEXT, author=lead)
    meeting = ReflectionMeeting.objects.create(
        project=project,
        cycle=cycle,
        held_on=date(2026, 2, 2),
        kind="interprofessional",
        minutes=TEXT,
        lessons=TEXT,
    )
    MeetingFinding.objects.create(meeting=meeting, kind="barrier", category="time", text=TEXT[:500])

    client.force_login(loop["gp"])
    pages = {
        "patient list": reverse("patients:list"),
        "patient": reverse("patients:detail", args=[patient.pk]),
        "referral": reverse("referrals:detail", args=[referral.pk]),
        "letter": reverse("referrals:letter", args=[referral.pk]),
        "sent inbox": reverse("referrals:inbox") + "?box=sent",
        "person": reverse("teams:person", args=[loop["contact"].pk]),
    }
    for where, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, where
        assert_escaped(response.content.decode(), where)
    # htmx partials: the inbox list and the people search answer with fragments.
    for where, url in {
        "inbox partial": reverse("referrals:inbox") + "?box=sent",
        "people partial": reverse("teams:people") + "?q=Samira",
    }.items():
        response = client.get(url, headers={"HX-Request": "true"})
        assert response.status_code == 200
        html = response.content.decode()
        for payload in PAYLOADS:
            assert payload not in html, where

    client.force_login(loop["contact"])
    assert_escaped(client.get(reverse("referrals:detail", args=[referral.pk])).content.decode(), "receiver")
    client.force_login(lead)
    for where, url in {
        "dashboard": reverse("evaluations:dashboard", args=[project.pk]),
        "cycle": reverse("evaluations:cycle", args=[project.pk, 1]),
        "projects": reverse("evaluations:projects"),
    }.items():
        response = client.get(url)
        assert response.status_code == 200, where
        html = response.content.decode()
        for payload in PAYLOADS:
            assert payload not in html, (where, payload)
        assert "&lt;script&gt;" in html, where
