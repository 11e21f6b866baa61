"""Panels this app adds to a person's home page."""

from django.utils import timezone

from . import selectors


def panels(request) -> list[tuple[str, dict]]:
    today = timezone.localdate()
    result = []
    practices = selectors.my_contacts(user=request.user, on=today)
    if practices:
        result.append(("teams/_panel_my_contacts.html", {"practices": practices}))
    coordinated = selectors.coordinated_teams(request.user)
    gaps = [(team, selectors.practices_without_contact(team=team)) for team in coordinated]
    gaps = [(team, practices) for team, practices in gaps if practices]
    if gaps:
        result.append(("teams/_panel_gaps.html", {"gaps": gaps}))
    stale = list(selectors.stale_services_for(user=request.user, today=today)[:10])
    if stale:
        result.append(("teams/_panel_stale.html", {"stale": stale}))
    return result
