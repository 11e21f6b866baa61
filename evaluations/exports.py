"""Exports for researchers: pseudonymised referral events, indicators per month, meetings.

Patients and referrals appear only under a research id that is derived per project with a keyed hash,
so an export cannot be joined to the hub's own ids or pseudonyms, nor two projects' exports to each
other. No names, dates of birth, BSNs, letters or free-text notes about patients are exported.
Every text cell that a spreadsheet would read as a formula is escaped.
"""

import csv
import logging
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from collab_hub.audit.models import AccessEvent
from collab_hub.audit.services import access_log_write
from patients.selectors import role_of
from referrals.models import Event

from .indicators import counts_from, project_referrals, project_series
from .models import Export, MeetingFinding, ReflectionMeeting
from .selectors import shares_ground

logger = logging.getLogger(__name__)

# A cell starting with one of these is a formula (or becomes one) in Excel, LibreOffice and Sheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PROGRESS_EVERY = 1000


def cell_safe(value):
    """Text that a spreadsheet would evaluate is prefixed with an apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def research_id(project_id: int, kind: str, pk: int) -> str:
    digest = salted_hmac("evaluations.research-id", f"{project_id}:{kind}:{pk}").hexdigest()[:12]
    return f"{kind[0].upper()}-{digest}"


def _day(at):
    """The local day only: a timestamp to the second, with team and pathway, would let rows of two
    projects' exports be joined despite their separate research ids."""
    return timezone.localdate(at) if at else None


def _events(project) -> tuple[list[str], int, Iterator[list]]:
    events = Event.objects.filter(
        referral__in=project_referrals(project, start=counts_from(project), end=project.ends_on)
    )
    if shares_ground(project):  # the same referrals as another project's export: nothing to give
        events = Event.objects.none()
    qs = events.order_by("at", "pk").values_list(
        "referral_id",
        "referral__patient_id",
        "referral__pathway__code",
        "referral__receiving_team__name",
        "kind",
        "at",
        "from_status",
        "to_status",
        "referral__decline_reason",
    )
    header = [
        "referral",
        "patient",
        "pathway",
        "receiving_team",
        "event",
        "on",
        "from_status",
        "to_status",
        "decline_reason",
    ]

    def rows():
        for referral, patient, pathway, team, kind, at, before, after, reason in qs.iterator(chunk_size=2000):
            yield [
                research_id(project.pk, "referral", referral),
                research_id(project.pk, "patient", patient),
                pathway,
                team,
                kind,
                _day(at),
                before,
                after,
                reason if kind == Event.Kind.DECLINED else "",
            ]

    return header, qs.count(), rows()


# Column → indicator key. Durations in working days (as on the dashboard) and in calendar days.
INDICATOR_COLUMNS = {
    "sent": "sent",
    "matured": "matured",
    "still_open": "still_open",
    "accepted": "accepted",
    "acceptance_rate": "acceptance_rate",
    "median_working_days_to_acceptance": "median_days_to_acceptance",
    "median_calendar_days_to_acceptance": "median_calendar_days_to_acceptance",
    "median_working_days_to_first_contact": "median_days_to_first_contact",
    "median_calendar_days_to_first_contact": "median_calendar_days_to_first_contact",
    "closed_loop_share": "closed_loop_share",
    "acknowledged_share": "acknowledged_share",
    "median_working_days_to_acknowledgement": "median_days_to_acknowledgement",
    "median_calendar_days_to_acknowledgement": "median_calendar_days_to_acknowledgement",
    "declined_share": "declined_share",
    "forwarded_share": "forwarded_share",
    "reminders_per_referral": "reminders_per_referral",
    "named_contact_share": "named_contact_share",
}


def _period(part) -> str:
    """The month's place in the study: the baseline (cycle 0), a cycle, or neither."""
    if part is None:
        return ""
    return "baseline" if part == 0 else f"cycle {part}"


def _indicators(project) -> tuple[list[str], int, Iterator[list]]:
    header = ["month", "period", *INDICATOR_COLUMNS]
    if shares_ground(project):  # the dashboard shows no figures either (selectors.ground_shared)
        return header, 1, iter([["all", "", "withheld"] + [None] * (len(INDICATOR_COLUMNS) - 1)])
    series, _withheld = project_series(project, calendar_days=True)
    rows = (
        [row["period"].strftime("%Y-%m"), _period(row.get("part"))]
        + (
            ["withheld"] + [None] * (len(INDICATOR_COLUMNS) - 1)  # small months are hidden with others
            if row["small"]
            else [row.get(key) for key in INDICATOR_COLUMNS.values()]
        )
        for row in series
    )
    return header, len(series), rows


def _meetings(project) -> tuple[list[str], int, Iterator[list]]:
    meetings = (
        ReflectionMeeting.objects.filter(project=project).select_related("cycle").order_by("held_on", "pk")
    )
    findings: dict[int, list[MeetingFinding]] = {}
    for finding in MeetingFinding.objects.filter(meeting__project=project).order_by("pk"):
        findings.setdefault(finding.meeting_id, []).append(finding)
    header = ["date", "kind", "cycle", "finding", "category", "description", "lessons"]

    def rows():
        for meeting in meetings:
            base = [meeting.held_on, meeting.kind, meeting.cycle.number if meeting.cycle else None]
            for finding in findings.get(meeting.pk) or [None]:
                yield base + (
                    [finding.kind, finding.category, finding.text, meeting.lessons]
                    if finding
                    else ["", "", "", meeting.lessons]
                )

    return header, sum(max(1, len(findings.get(m.pk, []))) for m in meetings), rows()


DATASETS = {
    Export.Dataset.EVENTS: _events,
    Export.Dataset.INDICATORS: _indicators,
    Export.Dataset.MEETINGS: _meetings,
}


def _progress(export: Export, rows: Iterable[list]) -> Iterator[list]:
    for done, row in enumerate(rows, start=1):
        if done % PROGRESS_EVERY == 0:
            Export.objects.filter(pk=export.pk).update(rows_done=done)
        yield [cell_safe(value) for value in row]


def _write_csv(path: Path, header: list[str], rows: Iterable[list]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _write_xlsx(path: Path, header: list[str], rows: Iterable[list], title: str) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)


def export_path(export: Export) -> Path:
    return Path(settings.EXPORT_ROOT) / export.file_name


def export_build(*, export_id: int) -> None:
    """Build one export file. Runs in a worker; returns at once when another run has it already."""
    if Export.objects.filter(pk=export_id, state=Export.State.QUEUED).update(state=Export.State.RUNNING) != 1:
        return
    export = Export.objects.select_related("project").get(pk=export_id)
    root = Path(settings.EXPORT_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    # An unguessable name: the download view checks access, but the file system should not help guessing.
    name = f"project-{export.project_id}-{export.dataset}-{export.pk}-{secrets.token_hex(8)}.{export.format}"
    partial = root / (name + ".part")
    try:
        header, total, rows = DATASETS[export.dataset](export.project)
        Export.objects.filter(pk=export.pk).update(rows_total=total)
        if export.format == Export.Format.XLSX:
            _write_xlsx(partial, header, _progress(export, rows), export.dataset)
        else:
            _write_csv(partial, header, _progress(export, rows))
        partial.rename(root / name)
    except Exception:
        partial.unlink(missing_ok=True)
        Export.objects.filter(pk=export.pk).update(state=Export.State.FAILED, finished_at=timezone.now())
        logger.exception("export %s failed", export.pk)
        raise
    with transaction.atomic():
        Export.objects.filter(pk=export.pk).update(
            state=Export.State.DONE, rows_done=total, file_name=name, finished_at=timezone.now()
        )
        # NEN 7513: the export of (pseudonymised) patient data is an access like any other.
        access_log_write(
            user=export.requested_by,
            event=AccessEvent.EXPORT,
            role=role_of(export.requested_by),
            object_type="export",
            object_id=export.pk,
            purpose="research",
            reason=f"project {export.project_id}, {export.dataset}, {total} rows",
        )
