"""Statistical disclosure control for every figure the evaluations pages show (docs/privacy-aggregates.md).

Primary suppression: a group of fewer than five referrals shows none of its numbers.
Complementary suppression: the parts of a breakdown whose total is shown, or can be worked out (the
teams, pathways and months of a period; the decline reasons, whose total follows from the share
declined), are hidden together. As soon as one part is below five, the smallest other parts are hidden
with it until the hidden parts add up to at least MIN_HIDDEN_SUM, and every hidden part looks the same:
a reader who knows the rule and the total learns only that several groups together make that sum.
Projects that share ground: no two projects may count the same referral (`share_ground`); where they
would, neither shows referral figures, since their difference would be a group no rule above sees.
"""

from dataclasses import dataclass
from datetime import date

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


@dataclass(frozen=True)
class Scope:
    """The referrals a project counts: sent in [starts_on, ends_on] to one of `teams` on one of
    `pathways` (an empty set counts every team, or every pathway)."""

    pk: int | None
    starts_on: date
    ends_on: date
    teams: frozenset[int]
    pathways: frozenset[int]


def share_ground(a: Scope, b: Scope) -> bool:
    """Whether one referral could count in both projects. Two projects that share ground and differ at
    all tell, by subtraction, the figures of what lies in one and not the other (one team, one pathway,
    the days one project has and the other not), however each project's own figures are suppressed."""

    def meet(x: frozenset[int], y: frozenset[int]) -> bool:
        return not x or not y or bool(x & y)

    return (
        a.pk != b.pk
        and a.starts_on <= b.ends_on
        and b.starts_on <= a.ends_on
        and meet(a.teams, b.teams)
        and meet(a.pathways, b.pathways)
    )
