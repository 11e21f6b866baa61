"""Questionnaires waiting for this person, on their home page."""

from .measurement_selectors import open_invitations


def panels(request) -> list[tuple[str, dict]]:
    invitations = list(open_invitations(user=request.user)[:5])
    if not invitations:
        return []
    return [("evaluations/_panel_questionnaires.html", {"invitations": invitations})]
