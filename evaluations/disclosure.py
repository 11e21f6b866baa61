"""Statistical disclosure control for every figure the evaluations pages show (docs/privacy-aggregates.md).

Primary suppression: a group of fewer than five referrals shows none of its numbers.
Complementary suppression: the parts of a breakdown whose total is shown, or can be worked out (the
teams, pathways and months of a period; the decline reasons, whose total follows from the share
declined), are hidden together. As soon as one part is below five, the smallest other parts are hidden
with it until the hidden parts add up to at least MIN_HIDDEN_SUM, and every hidden part looks the same:
a reader who knows the rule and the total learns only that several groups together make that sum.
"""

from django.utils.translation import gettext_lazy as _

SMALL_GROUP = 5
MIN_HIDDEN_SUM = 2 * SMALL_GROUP
WITHHELD = _("withheld")


def is_small(n: int | None) -> bool:
    return n is not None and 0 < n < SMALL_GROUP


def protect(sizes: list[int | None]) -> list[bool]:
    """Per part of a breakdown whether it is hidden. Nothing is hidden when no part is small; otherwise
    every small part and then the smallest others, until the hidden sum is at least MIN_HIDDEN_SUM (or
    all are hidden). Told apart by nothing, so "<5" never marks which hidden part is the small one."""
    hidden = [is_small(n) for n in sizes]
    if not any(hidden):
        return hidden
    others = sorted((n or 0, i) for i, n in enumerate(sizes) if not hidden[i])
    total_hidden = sum(n or 0 for i, n in enumerate(sizes) if hidden[i])
    for n, i in others:
        if total_hidden >= MIN_HIDDEN_SUM and sum(hidden) >= 2:
            break
        hidden[i] = True
        total_hidden += n
    return hidden
