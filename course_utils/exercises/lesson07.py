"""Exercises for lesson 07 (classification + localisation, IoU).

Checkers compute the answer with :mod:`course_utils.boxes`. ``ex1`` and
``ex5`` are "predict, then run": the lesson asks them before the cell that
shows the answer. ``ex6`` is modify-and-observe: the student rebuilds the box
head without its grid and measures what that costs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from course_utils import boxes
from course_utils.exercises import Case, Exercise

_A = (0.1, 0.1, 0.5, 0.5)
_B = (0.3, 0.3, 0.7, 0.7)
_CENTER_BOX = (0.3, 0.6, 0.4, 0.2)


def _shifted_half(answer: object) -> bool | tuple[bool, str]:
    value = float(answer)  # type: ignore[arg-type]
    expected = float(boxes.paired_iou([[0, 0, 2, 2]], [[1, 0, 3, 2]])[0])  # = 1/3
    if abs(value - expected) <= 0.01:
        return True, "Overlap half a box, union one and a half boxes: 1/3."
    if abs(value - 0.5) <= 0.01:
        return False, (
            "0.5 is the overlap as a share of one box; IoU divides by the union, "
            "which here covers one and a half boxes."
        )
    if abs(value - 0.25) <= 0.01 or abs(value - 2 / 3) <= 0.01:
        return False, "Draw it: overlap = half a box; union = box + box - overlap."
    return False, "Let each box have area 1: how much do they share, and how much do they cover?"


def _iou_by_hand(answer: object) -> bool | tuple[bool, str]:
    expected = float(boxes.paired_iou([_A], [_B])[0])
    value = float(answer)  # type: ignore[arg-type]
    if abs(value - expected) <= 1e-3:
        return True
    if abs(value - 0.04 / 0.32) <= 1e-3:
        return False, "The overlap is counted twice in 0.16 + 0.16: subtract it once."
    if abs(value - 0.04) <= 1e-3:
        return False, "0.04 is the overlap's area; divide it by the union's area."
    if abs(value - expected) <= 0.02:
        return False, (
            f"{value:.3f} is close but not within 0.001: rounded too early? "
            "Keep the fraction until the end."
        )
    return False, "Overlap: 0.2 x 0.2. Union: area A + area B - overlap."


def _center_to_corners(answer: object) -> bool | tuple[bool, str]:
    got = np.asarray(answer, dtype=float).reshape(-1)
    if got.shape != (4,):
        return False, "Answer with four numbers: (x_min, y_min, x_max, y_max)."
    expected = boxes.center_to_corners(np.array(_CENTER_BOX))
    if np.allclose(got, expected, atol=1e-6):
        return True
    x, y, w, h = _CENTER_BOX
    if np.allclose(got, [x - w, y - h, x + w, y + h], atol=1e-6):
        return False, "You went a whole width (and height) each way: go half of it."
    if np.allclose(got, [x, y, x + w, y + h], atol=1e-6):
        return False, "(0.3, 0.6) is the centre, not the top-left corner."
    if np.allclose(got, [x - w / 2, y - h / 2, w, h], atol=1e-6):
        return (
            False,
            "The last two numbers are the far corner (x_max, y_max), not width and height.",
        )
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
            hint = ""
            if what == "disjoint boxes":
                hint = " Apart, min(right edges) - max(left edges) is negative: clip it at 0."
            return (
                False,
                f"For {what} {a}, {b} the IoU is {expected:.4f}, you gave {got:.4f}.{hint}",
            )
    return True, "It agrees with course_utils.boxes on every case."


_SPREADS = {"less": ("less", "narrower", "smaller", "lower"), "more": ("more", "wider", "larger")}


def _spread(answer: object) -> bool | tuple[bool, str]:
    if not isinstance(answer, str):
        return False, 'Answer with a word: "less", "same" or "more".'
    word = answer.strip().lower()
    if word in _SPREADS["less"]:
        return True, (
            "A regressor trained on squared error hedges towards the average when unsure: "
            "its predictions spread less than the truth (regression to the mean)."
        )
    if word in _SPREADS["more"]:
        return False, (
            "Think of a model that knows nothing: its best squared-error answer is the "
            "average, which has no spread at all. A partly-informed model lies in between."
        )
    if word in ("same", "equal"):
        return False, "Only a perfect model would match the truth's spread; is this one perfect?"
    return False, 'Answer "less", "same" or "more".'


def _box_head_without_grid(answer: object) -> bool | tuple[bool, str]:
    import keras

    if not isinstance(answer, tuple | list) or len(answer) != 3:
        return False, (
            "Answer with three things: (the heads model you built, its validation IoU, "
            "the original heads' validation IoU)."
        )
    model, pooled_iou, grid_iou = answer
    if not isinstance(model, keras.Model):
        return False, "The first item must be the Keras model you built and trained."
    kinds = [type(layer).__name__ for layer in model.layers]
    if "Flatten" in kinds:
        return False, (
            "Your model still has a Flatten layer: the box head still sees each grid "
            "cell separately. Replace it with GlobalAveragePooling2D."
        )
    if not any(k.startswith("Global") for k in kinds):
        return False, "Average the grid with keras.layers.GlobalAveragePooling2D()."
    if len(model.outputs) != 2 or tuple(model.outputs[1].shape[1:]) != (4,):
        return False, "Keep both heads: outputs [class probabilities, 4 box numbers]."
    pooled, grid = float(pooled_iou), float(grid_iou)
    if not (0.0 <= pooled <= 1.0 and 0.0 <= grid <= 1.0):
        return False, "IoUs lie between 0 and 1: pass the mean IoUs, not losses."
    if pooled >= grid - 0.05:
        return False, (
            f"Your pooled head scores {pooled:.2f} against {grid:.2f}: about the same. Did you "
            "train the new model (fit) before measuring it, on the validation features?"
        )
    return True, (
        f"Averaging the grid cost {grid - pooled:.2f} of IoU: once the cells are pooled, "
        "the head no longer knows where in the image a feature was."
    )


ex1 = Exercise(
    "ex1",
    "Predict, then run: what is the IoU of a box and the same box shifted right by half its width?",
    _shifted_half,
    hint="Take a 2 x 2 box. The shifted copy shares a 1 x 2 strip with it.",
    solution="answer = 1 / 3  # overlap 2, union 4 + 4 - 2 = 6",
    kind="predict",
)

ex2 = Exercise(
    "ex2",
    f"By hand: what is the IoU of box A = {_A} and box B = {_B} (corner format)?",
    _iou_by_hand,
    hint="Both boxes are 0.4 x 0.4; they overlap on a 0.2 x 0.2 square.",
    solution="answer = 0.04 / (0.16 + 0.16 - 0.04)  # = 1/7, about 0.143",
)

ex3 = Exercise(
    "ex3",
    f"Convert the centre-format box (x_center, y_center, width, height) = {_CENTER_BOX} "
    "into corner format (x_min, y_min, x_max, y_max).",
    _center_to_corners,
    hint="The corners are half a width left/right and half a height up/down from the centre.",
    solution="answer = (0.3 - 0.2, 0.6 - 0.1, 0.3 + 0.2, 0.6 + 0.1)  # (0.1, 0.5, 0.5, 0.7)",
)

ex4 = Exercise(
    "ex4",
    "Write my_iou(a, b) for two corner-format boxes, using plain Python (max, min), and "
    "return 0.0 when the union has no area.",
    _my_iou,
    hint="The overlap is itself a box: its left edge is the larger of the two left edges, its "
    "right edge the smaller of the two right edges. A flipped or empty box has area 0.",
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
    kind="code",
)

ex5 = Exercise(
    "ex5",
    'Predict, then run: will the predicted box widths spread "less", the "same" or "more" '
    "than the true widths?",
    _spread,
    hint="What would a model that had learnt nothing answer, to make its squared error small?",
    solution='answer = "less"  # unsure predictions are pulled towards the mean',
    kind="predict",
)

ex6 = Exercise(
    "ex6",
    "Modify and observe: rebuild the heads with GlobalAveragePooling2D in place of the box "
    "head's Flatten, train them on the cached training features, and measure their mean IoU on "
    "the validation scenes. Answer (model, its IoU, the original heads' IoU).",
    _box_head_without_grid,
    hint="Copy two_heads into a new function with new layers; only the box path changes. "
    "Train it like the lesson's heads (batches(train_features, train, seed=...)), predict on "
    "batches(val_features, val), then take paired_iou of its predicted boxes.",
    solution=(
        "features_in = keras.Input(train_features.shape[1:])\n"
        "label = keras.layers.Dense(len(CLASSES), activation='softmax')(\n"
        "    keras.layers.GlobalAveragePooling2D()(features_in))\n"
        "b = keras.layers.Conv2D(32, 1, activation='relu')(features_in)\n"
        "b = keras.layers.GlobalAveragePooling2D()(b)  # was Flatten()\n"
        "b = keras.layers.Dense(128, activation='relu')(b)\n"
        "box = keras.layers.Dense(4, activation='sigmoid')(b)\n"
        "pooled = keras.Model(features_in, [label, box])\n"
        "compile_two_heads(pooled)\n"
        "pooled.fit(batches(train_features, train, seed=0), epochs=15, verbose=0)\n"
        "_, val_pred = pooled.predict(batches(val_features, val), verbose=0)\n"
        "pooled_iou = boxes.paired_iou(val_pred, val.boxes, box_format='center').mean()\n"
        "answer = (pooled, pooled_iou, best_val_iou)"
    ),
    kind="modify",
)


def _tiny_heads(pool: str) -> Any:
    """Small two-head models, as a student would build them (for the tests)."""
    import keras

    fin = keras.Input((5, 5, 8))
    label = keras.layers.Dense(5, activation="softmax")(keras.layers.GlobalAveragePooling2D()(fin))
    b = keras.layers.Conv2D(4, 1, activation="relu")(fin)
    b = keras.layers.Flatten()(b) if pool == "flatten" else keras.layers.GlobalAveragePooling2D()(b)
    box = keras.layers.Dense(4, activation="sigmoid")(b)
    return keras.Model(fin, [label, box])


def _one_head(pool: str) -> Any:
    import keras

    model = _tiny_heads(pool)
    return keras.Model(model.inputs, model.outputs[:1])


CASES = [
    Case("ex1", 1 / 3, correct=True, says="1/3"),
    Case("ex1", 0.333, correct=True),
    Case("ex1", 0.5, correct=False, says="union"),
    Case("ex1", 0.25, correct=False, says="overlap = half a box"),
    Case("ex2", 1 / 7, correct=True),
    Case("ex2", 0.04, correct=False, says="overlap's area"),
    Case("ex2", 0.125, correct=False, says="counted twice"),
    Case("ex2", 0.14, correct=False, says="rounded too early"),
    Case("ex3", (0.1, 0.5, 0.5, 0.7), correct=True),
    Case("ex3", (-0.1, 0.4, 0.7, 0.8), correct=False, says="whole width"),
    Case("ex3", (0.3, 0.6, 0.7, 0.8), correct=False, says="not the top-left corner"),
    Case("ex3", (0.1, 0.5, 0.4, 0.2), correct=False, says="not width and height"),
    Case("ex3", (0.1, 0.5), correct=False, says="four numbers"),
    Case("ex4", lambda a, b: float(boxes.paired_iou([a], [b])[0]), correct=True, says="agrees"),
    Case("ex4", lambda a, b: 1.0, correct=False, says="disjoint boxes"),
    Case("ex4", "not a function", correct=False, says="Answer with a function"),
    Case(
        "ex4",
        lambda a, b: (min(a[2], b[2]) - max(a[0], b[0])) * (min(a[3], b[3]) - max(a[1], b[1])),
        correct=False,
        says="clip it at 0",
    ),
    Case("ex5", "less", correct=True, says="regression to the mean"),
    Case("ex5", "Narrower", correct=True),
    Case("ex5", "more", correct=False, says="average"),
    Case("ex5", "same", correct=False, says="perfect"),
    Case("ex6", build=lambda: (_tiny_heads("gap"), 0.31, 0.72), correct=True, says="cost 0.41"),
    Case("ex6", build=lambda: (_tiny_heads("flatten"), 0.70, 0.72), correct=False, says="Flatten"),
    Case("ex6", build=lambda: (_tiny_heads("gap"), 0.71, 0.72), correct=False, says="train"),
    Case("ex6", build=lambda: (_tiny_heads("gap"), 1.3, 0.72), correct=False, says="not losses"),
    Case("ex6", build=lambda: (_one_head("gap"), 0.3, 0.72), correct=False, says="both heads"),
    Case("ex6", (0.31, 0.72), correct=False, says="three things"),
]
