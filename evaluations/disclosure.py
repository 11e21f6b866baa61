"""Statistical disclosure control for every figure the evaluations pages show (docs/privacy-aggregates.md).

Primary suppression: a group of fewer than five referrals shows none of its numbers (`<5`).
Complementary suppression: the parts of a breakdown whose total is shown, or can be worked out (the
teams, pathways and months of a period; the decline reasons, whose total follows from the share
declined), are hidden together. When exactly one part is below five, the next smallest part is withheld
too, so that "total minus the parts shown" gives a sum of at least two groups rather than the small one.
"""

from django.utils.translation import gettext_lazy as _

SMALL_GROUP = 5
WITHHELD = _("withheld")


def is_small(n: int | None) -> bool:
    return n is not None and 0 < n < SMALL_GROUP


def protect(sizes: list[int | None]) -> list[str]:
    """Per part of a breakdown: "" (shown), "small" (below five) or "withheld" (hidden with a small part
    so that subtraction from the total cannot recover it)."""
    marks = ["small" if is_small(n) else "" for n in sizes]
    if marks.count("small") == 1:
        others = [(n, i) for i, n in enumerate(sizes) if not marks[i] and n]
        if others:
            marks[min(others)[1]] = "withheld"
    return marks
