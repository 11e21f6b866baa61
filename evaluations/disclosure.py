"""Statistical disclosure control for every figure the evaluations pages show (docs/privacy-aggregates.md).

Primary suppression: a group of fewer than five referrals shows none of its numbers.
Complementary suppression: the parts of a breakdown whose total is shown, or can be worked out (the
teams, pathways and months of a period; the decline reasons, whose total follows from the share
declined), are shown only when every part has five or more; otherwise all are withheld, and the
reader learns only the total.
Projects that share ground: no two projects may count the same referral (`share_ground`); where they
would, neither shows referral figures, since their difference would be a group no rule above sees.
"""

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext_lazy as _

SMALL_GROUP = 5
WITHHELD = _("withheld")


def is_small(n: int | None) -> bool:
    return n is not None and 0 < n < SMALL_GROUP


def protect(sizes: list[int | None]) -> list[bool]:
    """Per part of a breakdown whether it is hidden: none when no part is small, and all of them as soon
    as one is. Hiding only the small part and the next smallest (however many, whatever sum) leaves a
    reader who knows the rule room to work back: partners are at most the smallest part still shown,
    ties are broken in a visible order, and parts of nought are not listed, so e.g. teams of 4, 4, 4, 4
    and a shown 5 could only be four 4s. All or nothing leaves the total alone, which is shown anyway."""
    if any(is_small(n) for n in sizes):
        return [True] * len(sizes)
    return [False] * len(sizes)


@dataclass(frozen=True)
class Scope:
    """The referrals a project counts: sent in [starts_on, ends_on] (from `baseline_from` when its
    baseline starts earlier) to one of `teams` on one of `pathways` (an empty set counts every team,
    or every pathway)."""

    pk: int | None
    starts_on: date
    ends_on: date
    teams: frozenset[int]
    pathways: frozenset[int]
    baseline_from: date | None = None

    @property
    def counts_from(self) -> date:
        return min(self.starts_on, self.baseline_from or self.starts_on)


def share_ground(a: Scope, b: Scope) -> bool:
    """Whether one referral could count in both projects. Two projects that share ground and differ at
    all tell, by subtraction, the figures of what lies in one and not the other (one team, one pathway,
    the days one project has and the other not), however each project's own figures are suppressed."""

    def meet(x: frozenset[int], y: frozenset[int]) -> bool:
        return not x or not y or bool(x & y)

    return (
        a.pk != b.pk
        and a.counts_from <= b.ends_on
        and b.counts_from <= a.ends_on
        and meet(a.teams, b.teams)
        and meet(a.pathways, b.pathways)
    )
