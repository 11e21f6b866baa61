"""Run-chart rules on a series of numbers (one value per period), as used in improvement work.

- shift: six or more consecutive points on the same side of the median (points on the median are
  skipped: they neither break nor count towards a shift);
- trend: five or more consecutive points all going up or all going down (equal neighbours are skipped);
- astronomical point: a point far outside the others — here more than three robust standard deviations
  (1.4826 × the median absolute deviation) from the median.
"""

from dataclasses import dataclass, field
from itertools import pairwise
from statistics import median

SHIFT_LENGTH = 6
TREND_LENGTH = 5
ASTRONOMICAL_Z = 3.0


@dataclass
class RunChart:
    values: list[float | None]
    median: float | None = None
    shifts: list[list[int]] = field(default_factory=list)
    trends: list[list[int]] = field(default_factory=list)
    astronomical: list[int] = field(default_factory=list)


def _shifts(points: list[tuple[int, float]], centre: float) -> list[list[int]]:
    runs, current, side = [], [], 0
    for index, value in points:
        if value == centre:
            continue
        this = 1 if value > centre else -1
        if this != side:
            if len(current) >= SHIFT_LENGTH:
                runs.append(current)
            current, side = [], this
        current.append(index)
    if len(current) >= SHIFT_LENGTH:
        runs.append(current)
    return runs


def _trends(points: list[tuple[int, float]]) -> list[list[int]]:
    distinct = []
    for index, value in points:
        if distinct and distinct[-1][1] == value:
            continue
        distinct.append((index, value))
    runs, current, direction = [], distinct[:1], 0
    for (_, before), (index, value) in pairwise(distinct):
        this = 1 if value > before else -1
        if this != direction and direction != 0:
            if len(current) >= TREND_LENGTH:
                runs.append([i for i, _ in current])
            current = [current[-1]]
        direction = this
        current.append((index, value))
    if len(current) >= TREND_LENGTH:
        runs.append([i for i, _ in current])
    return runs


def analyse(values: list[float | None], *, centre: float | None = None) -> RunChart:
    """The rules over the points that are not None. `centre`: the line shifts are judged against, e.g.
    the baseline's median carried through the later months; by default the median of all points.
    Astronomical points are judged against the median of all points either way."""
    points = [(i, float(v)) for i, v in enumerate(values) if v is not None]
    chart = RunChart(values=values)
    if not points:
        chart.median = centre
        return chart
    middle = median(v for _, v in points)
    chart.median = middle if centre is None else centre
    chart.shifts = _shifts(points, chart.median)
    chart.trends = _trends(points)
    mad = median(abs(v - middle) for _, v in points)
    if mad > 0:
        chart.astronomical = [i for i, v in points if abs(v - middle) / (1.4826 * mad) > ASTRONOMICAL_Z]
    return chart
