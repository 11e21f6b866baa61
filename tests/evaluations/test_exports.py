"""Researchers' exports: pseudonymised, formula-safe, built by a real Celery worker with progress."""

import csv
import io
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from evaluations import exports
from evaluations.exports import cell_safe, export_build
from evaluations.models import Export, MeetingFinding, ReflectionMeeting
from evaluations.services import export_request
from patients.models import Patient
from tests.factories import ProfessionalFactory

from .test_dashboard import bulk_referrals

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+31 6 1234", "'+31 6 1234"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Wijkteam = goed", "Wijkteam = goed"),
        (-3, -3),
        (0.5, 0.5),
        (None, None),
    ],
)
def test_cells_that_would_be_formulas_are_escaped(value, expected):
    assert cell_safe(value) == expected


@pytest.fixture
def researcher():
    return ProfessionalFactory(profile__discipline="researcher")


@pytest.fixture
def data(loop, project):
    """Referrals with events, and a meeting whose texts try formula injection."""
    from referrals.models import Event, Referral

    bulk_referrals(loop, 12, months=3)
    Event.objects.bulk_create(
        Event(referral=r, at=r.sent_at, kind="sent", actor=loop["gp"], to_status="requested")
        for r in Referral.objects.all()
    )
    meeting = ReflectionMeeting.objects.create(
        project=project, held_on=date(2026, 2, 1), kind="interprofessional", lessons="=1+1"
    )
    MeetingFinding.objects.create(meeting=meeting, kind="barrier", category="time", text='=HYPERLINK("x")')
    MeetingFinding.objects.create(
        meeting=meeting, kind="facilitator", category="trust_emotion", text="-op tijd-"
    )
    return project


def build(project, user, dataset, fmt="csv"):
    export = Export.objects.create(project=project, requested_by=user, dataset=dataset, format=fmt)
    export_build(export_id=export.pk)
    export.refresh_from_db()
    return export, exports.export_path(export)


def test_event_export_is_pseudonymous(settings, tmp_path, loop, data, researcher):
    settings.EXPORT_ROOT = tmp_path
    export, path = build(data, researcher, "events")
    assert export.state == "done" and export.rows_total == export.rows_done == 12
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert len(rows) == 12 and {r["event"] for r in rows} == {"sent"}
    text = path.read_text(encoding="utf-8")
    cells = {cell for row in csv.reader(io.StringIO(text)) for cell in row}
    for patient in Patient.objects.all():
        assert patient.full_name not in text and patient.last_name not in text
        assert patient.pseudonym not in text and patient.bsn not in text
        assert str(patient.pk) not in cells
    from referrals.models import Referral

    for referral in Referral.objects.all():
        assert referral.reference not in text and str(referral.pk) not in cells
    # Stable within a project (a patient with three referrals is one research id), not across projects.
    assert len({r["patient"] for r in rows}) == 5
    assert exports.research_id(data.pk, "patient", 1) != exports.research_id(data.pk + 1, "patient", 1)


def test_meeting_export_escapes_formulas_in_csv_and_xlsx(settings, tmp_path, data, researcher):
    settings.EXPORT_ROOT = tmp_path
    _, path = build(data, researcher, "meetings")
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [r["description"] for r in rows] == ['\'=HYPERLINK("x")', "'-op tijd-"]
    assert rows[0]["lessons"] == "'=1+1"

    from openpyxl import load_workbook

    _, path = build(data, researcher, "meetings", "xlsx")
    sheet = load_workbook(path).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[1][5] == '\'=HYPERLINK("x")' and sheet.cell(row=2, column=6).data_type == "s"
    assert all(not str(v).startswith("=") for row in values for v in row if v is not None)


def test_indicator_export_suppresses_small_months(settings, tmp_path, loop, data, researcher):
    settings.EXPORT_ROOT = tmp_path
    bulk_referrals(loop, 2, first_month=8, months=1)
    bulk_referrals(loop, 10, first_month=9, months=1)
    bulk_referrals(loop, 20, first_month=10, months=1)
    _, path = build(data, researcher, "indicators")
    rows = {r["month"]: r for r in csv.DictReader(path.open(encoding="utf-8"))}
    assert rows["2026-01"]["sent"] == "withheld"  # 12 referrals over three months: 4 a month
    # August's 2 is withheld with every month of its group (July–December: cycle 2, still in Plan,
    # counts with the months outside cycles), since that group's total less its shown months would
    # give it away; cycle 1's months (January–March, 4 each) likewise.
    for month in ("2026-08", "2026-09", "2026-10"):
        assert rows[month]["sent"] == "withheld" and rows[month]["acceptance_rate"] == ""
    # Cycle 2 started (Do) on July and August only: September and October, outside cycles and all
    # five or more, are shown; August, alone in its cycle, stays withheld.
    from evaluations.models import Cycle

    Cycle.objects.filter(number=2).update(phase="do", ends_on=date(2026, 8, 31))
    _, path = build(data, researcher, "indicators")
    rows = {r["month"]: r for r in csv.DictReader(path.open(encoding="utf-8"))}
    assert rows["2026-08"]["sent"] == "withheld"
    assert rows["2026-09"]["sent"] == "10" and rows["2026-10"]["sent"] == "20"
    assert rows["2026-09"]["acceptance_rate"] == "0.6"  # (October's is blank while it matures)


def test_progress_is_written_while_rows_stream(settings, tmp_path, monkeypatch, data, researcher):
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 5)
    export = Export.objects.create(project=data, requested_by=researcher, dataset="events", format="csv")
    _, _, rows = exports.DATASETS["events"](data)
    stream = exports._progress(export, rows)
    for _ in range(5):
        next(stream)
    assert Export.objects.get(pk=export.pk).rows_done == 5
    for _ in range(5):
        next(stream)
    assert Export.objects.get(pk=export.pk).rows_done == 10
    assert Export.objects.get(pk=export.pk).percent == 0  # no total known in this direct use


def test_who_may_export(client, loop, project, researcher):
    url = reverse("evaluations:exports", args=[project.pk])
    client.force_login(loop["contact"])  # reads the dashboard, may not export
    assert client.get(url).status_code == 403
    client.force_login(loop["outsider"])
    assert client.get(url).status_code == 404
    with pytest.raises(Exception, match="onderzoekers"):
        export_request(project=project, by=loop["contact"], dataset="events", format="csv")
    # The lead exports figures, not the events row by row (they would undo every '<5').
    with pytest.raises(Exception, match="onderzoekers"):
        export_request(project=project, by=project.lead, dataset="events", format="csv")
    client.force_login(project.lead)
    page = client.get(url).content.decode()
    assert 'value="indicators"' in page and 'value="events"' not in page
    assert client.post(url, {"dataset": "events", "format": "csv"}).status_code == 200
    assert not Export.objects.exists()
    client.force_login(researcher)
    assert client.get(url).status_code == 200
    response = client.post(url, {"dataset": "everything", "format": "csv"})
    assert response.status_code == 200 and not Export.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_export_built_by_the_worker_with_progress_and_download(
    settings, tmp_path, client, loop, data, researcher, celery_worker, wait_for
):
    settings.EXPORT_ROOT = tmp_path
    client.force_login(researcher)
    url = reverse("evaluations:exports", args=[data.pk])
    response = client.post(url, {"dataset": "events", "format": "xlsx"}, follow=True)
    assert "wordt klaargezet" in response.content.decode()
    export = Export.objects.get()
    status_url = reverse("evaluations:export_status", args=[data.pk, export.pk])
    wait_for(lambda: Export.objects.get(pk=export.pk).state == "done")
    row = client.get(status_url).content.decode()
    assert 'value="100"' in row and "12 van 12 rijen" in row and "hx-trigger" not in row
    download = client.get(reverse("evaluations:export_download", args=[data.pk, export.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert download["Cache-Control"].startswith("max-age=0") or "no-cache" in download["Cache-Control"]
    body = b"".join(download.streaming_content)
    assert body[:2] == b"PK"  # a zip container: the XLSX workbook
    # Someone else's export is not theirs to fetch, even with the link.
    other = ProfessionalFactory(profile__discipline="researcher")
    client.force_login(other)
    assert client.get(reverse("evaluations:export_download", args=[data.pk, export.pk])).status_code == 404
    assert timezone.now() >= Export.objects.get(pk=export.pk).finished_at


def test_a_refusal_is_a_security_event_with_our_error_page(client, loop, project):
    from collab_hub.audit.models import SecurityEvent

    client.force_login(loop["contact"])  # reads the project, may not export
    url = reverse("evaluations:exports", args=[project.pk])
    response = client.get(url)
    assert response.status_code == 403 and 'data-testid="error-page"' in response.content.decode()
    event = SecurityEvent.objects.get(kind="permission_denied")
    assert (event.user, event.path) == (loop["contact"], url)
