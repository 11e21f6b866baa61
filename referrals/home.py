"""What waits for this person in the referral loop, on their home page."""

from django.utils import timezone

from . import selectors


def panels(request) -> list[tuple[str, dict]]:
    counts = selectors.inbox_counts(user=request.user)
    overdue = (
        selectors.received_for(user=request.user).filter(selectors.overdue_q(timezone.localdate())).count()
    )
    can_overview = selectors.overview_teams(user=request.user).exists()
    declined = selectors.sent_for(user=request.user).filter(selectors.recently_declined()).count()
    return [
        (
            "referrals/_panel_inbox.html",
            {**counts, "overdue": overdue, "declined": declined, "can_overview": can_overview},
        )
    ]
