import pytest

from evaluations.runchart import analyse


def test_median_of_even_count_and_empty_series():
    assert analyse([1, 2, 3, 4]).median == 2.5
    assert analyse([None, None]).median is None
    assert analyse([]).shifts == []


def test_shift_of_six_points_on_one_side():
    chart = analyse([5, 5, 5, 1, 1, 1, 1, 1, 1, 5, 5, 5])
    assert chart.shifts == [[3, 4, 5, 6, 7, 8]]


def test_five_on_one_side_is_no_shift_and_points_on_the_median_are_skipped():
    assert analyse([1, 1, 1, 1, 1, 9, 9, 9, 9, 9, 5]).shifts == []
    # 3 is the median; the point on it neither breaks nor counts.
    chart = analyse([1, 1, 1, 3, 1, 1, 1, 9, 9, 9, 9, 9, 9, 3])
    assert [len(run) for run in chart.shifts] == [6, 6]


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        ([1, 2, 3, 4, 5, 3], [[0, 1, 2, 3, 4]]),
        ([9, 8, 7, 6, 5, 7], [[0, 1, 2, 3, 4]]),
        ([1, 2, 2, 3, 4, 5], [[0, 1, 3, 4, 5]]),  # an equal neighbour is skipped, not a break
        ([1, 2, 3, 4, 2, 3], []),
    ],
)
def test_trend(series, expected):
    assert analyse(series).trends == expected


def test_astronomical_point():
    assert analyse([10, 11, 9, 10, 12, 10, 11, 40]).astronomical == [7]
    assert analyse([10, 12, 8, 11, 9, 13, 10, 12]).astronomical == []
    assert analyse([5, 5, 5, 5]).astronomical == []  # no spread: nothing is astronomical
