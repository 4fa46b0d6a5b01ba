"""Exercises for lesson 02 (pooling). Checkers compute the answer with Keras."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_utils.exercises import Exercise, close_to


def _pool_shape(answer: object) -> bool | tuple[bool, str]:
    import keras

    expected = keras.layers.MaxPool2D(pool_size=3, strides=2).compute_output_shape(
        (None, 32, 32, 16)
    )[1:]
    got = tuple(int(v) for v in answer)
    if got == tuple(expected):
        return True
    if len(got) == 3 and got[2] != 16:
        return False, "Pooling never changes the number of channels."
    return False, "Default padding is 'valid': floor((32 - 3) / 2) + 1 along each axis."


def _global_max(answer: object) -> bool | tuple[bool, str]:
    import keras

    if not isinstance(answer, Callable):
        return False, "Pass the function itself: ex3.check(global_max_pool)."
    x = np.random.default_rng(3).normal(size=(2, 5, 7, 4)).astype(np.float32)
    got = answer(x)
    if got is None or got is Ellipsis:
        return False, "Your function returns nothing yet."
    got = np.asarray(got)
    expected = keras.layers.GlobalMaxPooling2D()(x).numpy()
    if got.shape != expected.shape:
        return False, f"Expected shape {expected.shape}, got {got.shape}: reduce over h and w."
    return bool(np.allclose(got, expected)) or (False, "Right shape, wrong values.")


ex1 = Exercise(
    "ex1",
    "Output shape of MaxPool2D(pool_size=3, strides=2) on 32x32x16?",
    _pool_shape,
    hint="Use the valid-padding formula on height and width; channels are untouched.",
    solution="answer = (15, 15, 16)",
)

ex2 = Exercise(
    "ex2",
    "Fraction of values discarded by a 3x3 max pool with stride 3?",
    close_to(8 / 9, 1e-3),
    hint="Each 3x3 window of 9 values keeps 1.",
    solution="answer = 8 / 9",
)

ex3 = Exercise(
    "ex3",
    "Write global_max_pool(x): [n, h, w, c] -> [n, c].",
    _global_max,
    hint="np.max with axis=(1, 2).",
    solution="def global_max_pool(x):\n    return np.max(x, axis=(1, 2))",
)
