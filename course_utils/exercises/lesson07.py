"""Exercises for lesson 07 (classification + localisation, IoU).

Checkers compute the answer with :mod:`course_utils.boxes`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course_utils import boxes
from course_utils.exercises import Exercise

_A = (0.1, 0.1, 0.5, 0.5)
_B = (0.3, 0.3, 0.7, 0.7)


def _iou_by_hand(answer: object) -> bool | tuple[bool, str]:
    expected = float(boxes.paired_iou([_A], [_B])[0])
    value = float(answer)
    if abs(value - expected) <= 1e-3:
        return True
    if abs(value - 0.04 / 0.32) <= 1e-3:
        return False, "The overlap is counted twice in 0.16 + 0.16: subtract it once."
    if abs(value - 0.04) <= 1e-3:
        return False, "0.04 is the overlap's area; divide it by the union's area."
    return False, "Overlap: 0.2 x 0.2. Union: area A + area B - overlap."


def _center_to_corners(answer: object) -> bool | tuple[bool, str]:
    got = np.asarray(answer, dtype=float).reshape(-1)
    expected = boxes.center_to_corners([0.5, 0.4, 0.2, 0.6])
    if got.shape != (4,):
        return False, "Answer with four numbers: (x_min, y_min, x_max, y_max)."
    if np.allclose(got, expected, atol=1e-6):
        return True
    if np.allclose(got, [0.3, 0.2, 0.7, 0.6], atol=1e-6) or np.allclose(
        got, [0.5, 0.4, 0.7, 1.0], atol=1e-6
    ):
        return False, "Go half the width (and half the height) each way from the centre."
    return False, "x_min = x_center - width / 2, and so on."


def _my_iou(answer: object) -> bool | tuple[bool, str]:
    if not callable(answer):
        return False, "Answer with a function: def my_iou(a, b): ... returning a float."
    cases: Sequence[tuple[tuple[float, ...], tuple[float, ...], str]] = [
        ((0, 0, 1, 1), (0, 0, 1, 1), "identical boxes"),
        ((0, 0, 1, 1), (2, 2, 3, 3), "disjoint boxes"),
        ((0, 0, 2, 2), (1, 0, 3, 2), "half-overlapping boxes"),
        ((0, 0, 1, 1), (1, 0, 2, 1), "boxes touching along an edge"),
        ((0, 0, 4, 4), (1, 1, 2, 2), "a box inside another"),
        ((0.5, 0.5, 0.5, 0.5), (0, 0, 1, 1), "a zero-area box"),
        ((0.5, 0.5, 0.5, 0.5), (0.5, 0.5, 0.5, 0.5), "two identical zero-area boxes"),
    ]
    for a, b, what in cases:
        expected = float(boxes.paired_iou([a], [b])[0])
        try:
            got = float(answer(a, b))
        except ZeroDivisionError:
            return False, f"Division by zero for {what}: return 0.0 when the union is empty."
        if abs(got - expected) > 1e-6:
            return False, f"For {what} {a}, {b} the IoU is {expected:.4f}, you gave {got:.4f}."
    return True, "It agrees with course_utils.boxes on every case."


ex1 = Exercise(
    "ex1",
    f"By hand: what is the IoU of box A = {_A} and box B = {_B} (corner format)?",
    _iou_by_hand,
    hint="Both boxes are 0.4 x 0.4; they overlap on a 0.2 x 0.2 square.",
    solution="answer = 0.04 / (0.16 + 0.16 - 0.04)  # = 1/7, about 0.143",
)

ex2 = Exercise(
    "ex2",
    "Convert the centre-format box (x_center, y_center, width, height) = (0.5, 0.4, 0.2, 0.6) "
    "into corner format (x_min, y_min, x_max, y_max).",
    _center_to_corners,
    hint="The corners are half a width left/right and half a height up/down from the centre.",
    solution="answer = (0.5 - 0.1, 0.4 - 0.3, 0.5 + 0.1, 0.4 + 0.3)  # (0.4, 0.1, 0.6, 0.7)",
)

ex3 = Exercise(
    "ex3",
    "Write my_iou(a, b) for two corner-format boxes, using plain Python (max, min), and "
    "return 0.0 when the union has no area.",
    _my_iou,
    hint="The overlap's width is max(0, min(a[2], b[2]) - max(a[0], b[0])); likewise its "
    "height. A flipped or empty box has area 0.",
    solution=(
        "def my_iou(a, b):\n"
        "    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))\n"
        "    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))\n"
        "    inter = w * h\n"
        "    area = lambda r: max(0.0, r[2] - r[0]) * max(0.0, r[3] - r[1])\n"
        "    union = area(a) + area(b) - inter\n"
        "    return inter / union if union > 0 else 0.0\n"
        "answer = my_iou"
    ),
)
