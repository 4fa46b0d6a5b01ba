"""Exercises for lesson 05 (transfer learning with a frozen base).

Checkers compute the answer with the course's own head builders or with OpenCV.
"""

from __future__ import annotations

import numpy as np

from course_utils.exercises import Exercise


def _gap_head_params(answer: object) -> bool | tuple[bool, str]:
    from course_utils.transfer import gap_head

    expected = gap_head((5, 5, 1280), 5, dropout=0.0).count_params()
    if int(answer) == expected:
        return True
    if int(answer) == 1280 * 5:
        return False, "You counted the weights; each of the five output units also has a bias."
    if int(answer) == 5 * 5 * 1280 * 5 + 5:
        return False, "Global average pooling leaves 1,280 numbers, not 5 x 5 x 1,280."
    return False, "Pooling leaves one number per channel; then weights + biases of Dense(5)."


def _flatten_head_params(answer: object) -> bool | tuple[bool, str]:
    from course_utils.transfer import flatten_head

    expected = flatten_head((6, 6, 1280), 2, units=128).count_params()
    if int(answer) == expected:
        return True
    if int(answer) == 6 * 6 * 1280 * 128 + 128:
        return False, "That is the hidden layer; add the output unit's 128 weights and 1 bias."
    return False, "Flatten gives 6 x 6 x 1,280 inputs for Dense(128); then Dense(1) on 128."


def _to_rgb(answer: object) -> bool | tuple[bool, str]:
    import cv2

    if not callable(answer):
        return False, "Answer with a function, e.g. def to_rgb(img): ..."
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    got = np.asarray(answer(bgr.copy()))
    if got.shape != bgr.shape:
        return False, f"The shape changed from {bgr.shape} to {got.shape}."
    if np.array_equal(got, bgr):
        return False, "The channels are still in BGR order."
    if not np.array_equal(got, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)):
        return False, "Not RGB yet: only the first and the last channel swap places."
    return True


ex1 = Exercise(
    "ex1",
    "The five flower classes get a GlobalAveragePooling2D + Dense(5) head on MobileNetV2's "
    "5x5x1280 output. How many trainable parameters does the head have?",
    _gap_head_params,
    hint="Pooling has no weights and leaves 1,280 numbers per image.",
    solution="answer = 1280 * 5 + 5  # 6,405: a weight per channel and class, a bias per class",
)

ex2 = Exercise(
    "ex2",
    "The course notes 'Convolutional Neural Networks (Part II)' flatten MobileNetV2's 6x6x1280 "
    "output (192x192 images) into Dense(128) and then Dense(1). How many trainable parameters "
    "does that head have?",
    _flatten_head_params,
    hint="Flatten turns 6 x 6 x 1,280 into one long vector; count weights and biases of both "
    "Dense layers.",
    solution="answer = 6 * 6 * 1280 * 128 + 128 + 128 + 1  # 5,898,497, about 4,600x the GAP head",
)

ex3 = Exercise(
    "ex3",
    "cv2.imread gives channels in BGR order. Write a function to_rgb(img) that returns the "
    "image in RGB order (shape unchanged).",
    _to_rgb,
    hint="Either reverse the last axis with NumPy slicing or use cv2.cvtColor.",
    solution="def to_rgb(img):\n    return img[..., ::-1]  # or cv2.cvtColor(img, "
    "cv2.COLOR_BGR2RGB)\n\nanswer = to_rgb",
)
