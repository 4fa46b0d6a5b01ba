"""Exercises for lesson 02 (pooling). Checkers compute the answer with Keras.

``ex4`` is predicted before the lesson's shift test runs; ``ex5`` asks the
student to change the pooling layer and rerun that test. The checker
measures the shift test the way the lesson does (:func:`shift_sensitivity`
on :func:`edge_features` of the sample photos)::

    >>> import keras
    >>> round(shift_sensitivity(keras.layers.MaxPool2D(2), edge_features(), shift=1)[1], 2)
    0.16
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from course_utils.exercises import Case, Exercise, equals

#: Margin (input pixels) left out at each side, where np.roll wraps columns around.
MARGIN = 16


def edge_features() -> np.ndarray:
    """ReLU maps of four edge filters (left, right, top, bottom) on the grey sample photos.

    The lesson builds the same maps in its own cell; this copy is the checker's.
    """
    import tensorflow as tf

    from course_utils.images import sample_images

    grey = sample_images().mean(axis=-1, keepdims=True)
    k = np.array([[1, 0, -1]] * 3, np.float32)
    filters = np.stack([k, -k, k.T, -k.T], axis=-1)[:, :, None, :]
    return np.maximum(tf.nn.conv2d(grey, filters, 1, "SAME").numpy(), 0.0)


def shift_sensitivity(
    layer: Callable[[Any], Any], x: np.ndarray, shift: int, layers: int = 3
) -> list[float]:
    """Relative change after 1..``layers`` stacked ``layer``s when ``x`` moves ``shift`` px right.

    The lesson writes this function out; this copy is the checker's (a test runs both).
    """
    a, b = x, np.roll(x, shift, axis=2)
    changes = []
    for n in range(1, layers + 1):
        a, b = np.asarray(layer(a)), np.asarray(layer(b))
        m = MARGIN // 2**n
        inner_a, inner_b = a[:, :, m:-m], b[:, :, m:-m]
        changes.append(float(np.abs(inner_a - inner_b).mean() / np.abs(inner_a).mean()))
    return changes


def _pool_shape(answer: object) -> bool | tuple[bool, str]:
    import keras

    expected = keras.layers.MaxPool2D(pool_size=3, strides=2).compute_output_shape(
        (None, 32, 32, 16)
    )[1:]
    got = tuple(int(v) for v in answer)  # type: ignore[attr-defined]
    if got == tuple(expected):
        return True
    if len(got) == 4:
        return False, "Leave out the batch axis: answer (height, width, channels)."
    if len(got) == 3 and got[2] != 16:
        return False, "Pooling never changes the number of channels."
    if got[:2] == (16, 16):
        return False, "That is 'same' padding (ceil(32 / 2)); MaxPool2D's default is 'valid'."
    if got[:2] == (10, 10):
        return False, "That is stride 3 (the default stride equals pool_size); here strides=2."
    return False, "Count the window positions that fit in 32 pixels with 'valid' padding."


def _discarded(answer: object) -> bool | tuple[bool, str]:
    got, expected = float(answer), 8 / 9  # type: ignore[arg-type]
    if abs(got - expected) <= 1e-3:
        return True
    if abs(got - expected) <= 0.01:
        return False, (
            f"Close, but {got} is {abs(got - expected):.4f} away from the exact value: "
            "give it to 3 decimals or as a fraction (the check allows 0.001)."
        )
    if abs(got - 1 / 9) <= 1e-3:
        return False, "That is the fraction kept: the question asks what is discarded."
    if abs(got - 0.75) <= 1e-3:
        return False, "That is a 2x2 window; here each window is 3x3."
    if got > 1:
        return False, "Answer with a fraction between 0 and 1, not a count or a percentage."
    return False, "One value survives from each window: how many values does a window hold?"


def _global_max(answer: object) -> bool | tuple[bool, str]:
    import keras

    if not callable(answer):
        return False, "Pass the function itself: ex3.check(global_max_pool)."
    x = np.random.default_rng(3).normal(size=(2, 5, 7, 4)).astype(np.float32)
    got = answer(x)
    if got is None or got is Ellipsis:
        return False, "Your function returns nothing yet."
    got = np.asarray(got)
    expected = keras.layers.GlobalMaxPooling2D()(x).numpy()
    if got.shape == (2, 1, 1, 4):
        return False, "Right values, but drop the size-1 height and width axes (keepdims)."
    if got.shape != expected.shape:
        return False, f"Expected shape {expected.shape}, got {got.shape}: reduce over h and w."
    if np.allclose(got, x.mean(axis=(1, 2))):
        return False, "That is global *average* pooling: take the maximum."
    return bool(np.allclose(got, expected)) or (False, "Right shape, wrong values.")


def _overlapping(answer: object) -> bool | tuple[bool, str]:
    import keras

    features = edge_features()
    expected = shift_sensitivity(keras.layers.MaxPool2D(3, strides=2), features, shift=1)[1]
    two_by_two = shift_sensitivity(keras.layers.MaxPool2D(2), features, shift=1)[1]
    average = shift_sensitivity(keras.layers.AvgPool2D(3, strides=2), features, shift=1)[1]
    if isinstance(answer, list | tuple):
        return False, "Hand in one number: the change after two pooling layers (index [1])."
    got = float(answer)  # type: ignore[arg-type]
    if abs(got - expected) <= 0.01:
        better = "less" if expected < two_by_two else "more"
        return True, (
            f"{expected:.3f} after two 3x3/stride-2 layers vs {two_by_two:.3f} for 2x2: "
            f"overlapping windows are {better} sensitive to the shift."
        )
    if abs(got - two_by_two) <= 0.005:
        return False, "That is the lesson's 2x2 pooling: build MaxPool2D(pool_size=3, strides=2)."
    if abs(got - average) <= 0.005:
        return False, "That is average pooling: the exercise asks for max pooling."
    return False, (
        f"Not the expected value (the check allows 0.01): measure on the edge features, "
        f"1-pixel shift, after two layers. You gave {got:.3f}."
    )


ex1 = Exercise(
    "ex1",
    "Output shape of MaxPool2D(pool_size=3, strides=2) on 32x32x16?",
    _pool_shape,
    hint="Count window positions along height and width; channels are untouched.",
    solution="answer = (15, 15, 16)  # floor((32 - 3) / 2) + 1 = 15",
)

ex2 = Exercise(
    "ex2",
    "Fraction of values discarded by a 3x3 max pool with stride 3?",
    _discarded,
    hint="Each window of values keeps exactly one.",
    solution="answer = 8 / 9",
)

ex3 = Exercise(
    "ex3",
    "Write global_max_pool(x): [n, h, w, c] -> [n, c].",
    _global_max,
    hint="Which axes are height and width? NumPy's reductions take an axis= tuple.",
    solution="def global_max_pool(x):\n    return np.max(x, axis=(1, 2))",
    kind="code",
)

ex4 = Exercise(
    "ex4",
    "Predict: on edge feature maps, which changes least under a 1-pixel shift after three "
    "layers: 'max', 'average' or 'stride' (plain stride-2 subsampling)?",
    equals(
        "max",
        lambda a: (
            "Subsampling alone keeps every shift (it only changes which pixels are kept)."
            if str(a).strip().lower() == "stride"
            else "Average pooling smooths, but a shifted sparse edge still moves its mean; "
            "run the next cell and compare."
            if str(a).strip().lower() in ("average", "avg", "mean")
            else "Answer 'max', 'average' or 'stride'."
        ),
    ),
    hint="Edge maps after ReLU are zero in many places, bright along thin lines. Which "
    "summary of a window stays put while a thin line moves inside it?",
    solution='answer = "max"',
    kind="predict",
)

ex5 = Exercise(
    "ex5",
    "Rerun the shift test with overlapping windows, MaxPool2D(pool_size=3, strides=2); "
    "hand in the change after two layers.",
    _overlapping,
    hint="Only the layer changes: pass your new layer to shift_sensitivity with the same features "
    "and shift, and pick the second number.",
    solution=(
        "overlapping = keras.layers.MaxPool2D(pool_size=3, strides=2)\n"
        "answer = shift_sensitivity(overlapping, features, shift=1)[1]"
    ),
    kind="modify",
)


def _measured(layer_name: str, **kwargs: Any) -> float:
    import keras

    layer = getattr(keras.layers, layer_name)(**kwargs)
    return shift_sensitivity(layer, edge_features(), shift=1)[1]


CASES = [
    Case("ex1", (15, 15, 16), correct=True),
    Case("ex1", [15, 15, 16], correct=True),
    Case("ex1", (1, 15, 15, 16), says="batch axis"),
    Case("ex1", (15, 15, 8), says="channels"),
    Case("ex1", (16, 16, 16), says="'same'"),
    Case("ex1", (10, 10, 16), says="stride 3"),
    Case("ex2", 8 / 9, correct=True),
    Case("ex2", 0.889, correct=True),
    Case("ex2", 0.89, says="the check allows 0.001"),
    Case("ex2", 1 / 9, says="fraction kept"),
    Case("ex2", 0.75, says="2x2"),
    Case("ex2", 88.9, says="not a count or a percentage"),
    Case("ex3", lambda x: np.max(x, axis=(1, 2)), correct=True),
    Case("ex3", lambda x: np.mean(x, axis=(1, 2)), says="average"),
    Case("ex3", lambda x: np.max(x, axis=(1, 2), keepdims=True), says="keepdims"),
    Case("ex3", lambda x: np.max(x, axis=1), says="reduce over h and w"),
    Case("ex3", 42, says="function itself"),
    Case("ex4", "max", correct=True),
    Case("ex4", "stride", says="Subsampling alone"),
    Case("ex4", "average", says="smooths"),
    Case("ex5", build=lambda: _measured("MaxPool2D", pool_size=3, strides=2), correct=True),
    Case("ex5", build=lambda: _measured("MaxPool2D", pool_size=2), says="2x2"),
    Case("ex5", build=lambda: _measured("AvgPool2D", pool_size=3, strides=2), says="average"),
    Case("ex5", [0.3, 0.1, 0.05], says="one number"),
    Case("ex5", 0.9, says="allows 0.01"),
]
