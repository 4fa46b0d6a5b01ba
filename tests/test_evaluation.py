"""Tests of course_utils.evaluation: accuracy with its Wilson interval."""

from __future__ import annotations

import math

import pytest

from course_utils.evaluation import Accuracy, accuracy_of, wilson_interval


def _wilson_by_hand(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize(("k", "n"), [(56, 60), (280, 300), (0, 10), (10, 10), (1, 2)])
def test_wilson_matches_the_formula(k: int, n: int) -> None:
    assert wilson_interval(k, n) == pytest.approx(_wilson_by_hand(k, n), abs=1e-9)


def test_more_images_narrow_the_interval() -> None:
    small, large = Accuracy(56, 60).interval, Accuracy(280, 300).interval
    assert large[1] - large[0] < (small[1] - small[0]) / 2


def test_accuracy_of_counts_and_prints() -> None:
    acc = accuracy_of([0, 1, 2, 2], [0, 1, 2, 1])
    assert (acc.correct, acc.n, acc.errors, acc.value) == (3, 4, 1, 0.75)
    assert str(acc).startswith("0.750 (1 errors of 4; 95% CI ")


@pytest.mark.parametrize(("k", "n"), [(5, 4), (-1, 4), (0, 0)])
def test_bad_counts_are_refused(k: int, n: int) -> None:
    with pytest.raises(ValueError, match="correct"):
        wilson_interval(k, n)


def test_mismatched_predictions_are_refused() -> None:
    with pytest.raises(ValueError, match="as many predictions"):
        accuracy_of([0, 1], [0])
