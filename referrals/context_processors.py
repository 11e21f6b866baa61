from . import selectors


def inbox_counts(request) -> dict:
    """Counts shown in the navigation for logged-in people (two small indexed queries)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"referral_counts": selectors.inbox_counts(user=user)}
