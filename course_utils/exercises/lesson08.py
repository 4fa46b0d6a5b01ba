"""Exercises for lesson 08 (detection and segmentation).

Checkers compute the answer: shapes with Keras, suppression with
:func:`course_utils.detection.non_max_suppression`, and the modify-and-observe
exercise checks the detections the student decoded themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_utils import detection
from course_utils.boxes import iou_matrix
from course_utils.exercises import Case, Exercise

NMS_BOXES = np.array(
    [
        [0.10, 0.10, 0.50, 0.50],
        [0.12, 0.10, 0.52, 0.50],
        [0.60, 0.60, 0.90, 0.90],
        [0.30, 0.30, 0.70, 0.70],
    ]
)
NMS_SCORES = np.array([0.9, 0.95, 0.6, 0.8])

#: The lesson's detector: 6x6 cells (192-pixel scenes, MobileNetV2 divides by 32), 5 anchors,
#: 3 flower classes, batches of 32 scenes.
DETECTOR_GRID, DETECTOR_ANCHORS, DETECTOR_CLASSES, DETECTOR_BATCH = 6, 5, 3, 32


def _ints(answer: Any) -> tuple[int, ...]:
    if isinstance(answer, str) or not hasattr(answer, "__iter__"):
        raise TypeError("give a tuple of whole numbers, e.g. (2, 3)")
    return tuple(int(v) for v in answer)


# --------------------------------------------------------------------------- ex1 (section 4)


def _head_shape(answer: Any) -> bool | tuple[bool, str]:
    got = _ints(answer)
    s, b, c, n = DETECTOR_GRID, DETECTOR_ANCHORS, DETECTOR_CLASSES, DETECTOR_BATCH
    expected = (n, s, s, b, 5 + c)
    if got == expected:
        return True
    if got == expected[1:]:
        return False, "That is one scene's output; the head runs on a batch: add the batch axis."
    if len(got) == 5 and got[:4] == expected[:4] and got[4] == 4 + c:
        return False, "Each anchor also has an objectness score: 4 box numbers + 1 + the classes."
    if len(got) == 5 and got[:4] == expected[:4] and got[4] == 5:
        return False, "Each anchor also has one score per class, after its 5 box numbers."
    if len(got) == 4 and got[-1] == b * (5 + c):
        return False, "The head reshapes the last axis to (anchors, 5 + classes): two axes."
    if len(got) == 5 and got[1:3] != (s, s):
        return False, f"The grid: the base divides the {32 * s}-pixel side by 32."
    return False, "(batch, rows, columns, anchors, numbers per anchor)."


ex1 = Exercise(
    "ex1",
    "Predict, before the next cell shows it: the detector head gets a batch of 32 scenes of "
    "192x192 pixels (as feature maps of MobileNetV2, which divides each side by 32); it has 5 "
    "anchors and 3 classes. What is the shape of its output?",
    _head_shape,
    hint="Think of the YOLO tensor of section 2, one per scene, and of the axis Keras adds "
    "for the batch.",
    solution="answer = (32, 6, 6, 5, 5 + 3)  # batch, grid rows, grid columns, anchors, numbers",
    kind="predict",
)


# --------------------------------------------------------------------------- end of lesson


def _fcn_grid(answer: Any) -> bool | tuple[bool, str]:
    got = _ints(answer)
    features = (320 // 32, 480 // 32)
    expected = (features[0] - 2, features[1] - 2)
    if got == expected:
        return True
    if got == features:
        return False, "That is the feature map; a 3x3 'valid' convolution trims one cell per side."
    if got == expected[::-1]:
        return False, "Rows first: the photo is 320 pixels high and 480 wide."
    return False, "MobileNetV2 divides height and width by 32, then the 3x3 head removes 2."


def _transpose_shape(answer: Any) -> bool | tuple[bool, str]:
    import keras

    layer = keras.layers.Conv2DTranspose(16, 3, strides=2, padding="valid")
    expected = tuple(layer.compute_output_shape((None, 16, 16, 64))[1:])
    got = _ints(answer)
    if got == expected:
        return True
    if got[:2] == (32, 32):
        return False, "32x32 is what padding='same' gives; 'valid' keeps the kernel's overhang."
    if got[:2] == (16, 16):
        return False, "strides=2 in a transposed convolution doubles the height and width."
    if len(got) == 3 and got[-1] == 64:
        return False, "The number of channels becomes the number of filters."
    return False, "Answer (height, width, channels) of the output."


def _nms_by_hand(answer: Any) -> bool | tuple[bool, str]:
    expected = detection.non_max_suppression(NMS_BOXES, NMS_SCORES, iou_threshold=0.5).tolist()
    got = [int(v) for v in answer]
    if got == expected:
        return True
    if sorted(got) == sorted(expected):
        return False, "The right boxes, but list them in the order NMS keeps them (best first)."
    if 0 in got and 1 in got:
        return False, "Boxes 0 and 1 overlap almost completely: only the better one survives."
    if 3 not in got:
        return False, "Box 3 overlaps box 1 a little, but is its IoU really above 0.5?"
    return False, "Start from the highest score, drop what overlaps it with IoU > 0.5, repeat."


def _yolo_size(answer: Any) -> bool | tuple[bool, str]:
    expected = 13 * 13 * 5 * (5 + 20)
    got = int(answer)
    if got == expected:
        return True
    if got == 13 * 13 * (5 * 5 + 20):
        return False, "That is YOLOv1-style (classes per cell); here each anchor has its own."
    if got == 13 * 13 * 5 * (4 + 20):
        return False, "You left out the objectness score of each anchor."
    return False, "Grid cells x anchors x (4 box numbers + objectness + 20 class scores)."


def _count(found: Any) -> int:
    return sum(len(d) for d in found)


def _worst_overlap(found: Any) -> float:
    """The largest IoU between two boxes of the same class in the same image."""
    worst = 0.0
    for d in found:
        for c in np.unique(d.classes):
            b = d.boxes[d.classes == c]
            if len(b) > 1:
                ious = iou_matrix(b, b)
                np.fill_diagonal(ious, 0.0)
                worst = max(worst, float(ious.max()))
    return worst


def _nms_threshold(answer: Any) -> bool | tuple[bool, str]:
    strict, loose = answer
    if not all(isinstance(d, detection.Detections) for d in [*strict, *loose]):
        return False, "Hand in the two lists that detector.detect returned (one Detections each)."
    if len(strict) != len(loose):
        return False, "Decode the same scenes both times: the two lists differ in length."
    if _worst_overlap(strict) > 0.3 + 1e-6:
        return False, (
            f"Your first list still has two boxes of one class overlapping with IoU "
            f"{_worst_overlap(strict):.2f} > 0.3: did that call pass iou_threshold=0.3?"
        )
    if _worst_overlap(loose) > 0.9 + 1e-6:
        return False, "Your second list has overlaps above 0.9: it was decoded without NMS."
    n_strict, n_loose = _count(strict), _count(loose)
    if n_strict > n_loose:
        return False, "The stricter threshold kept more boxes: are the two lists swapped?"
    if n_strict == n_loose or _worst_overlap(loose) <= 0.3 + 1e-6:
        return False, (
            "Both lists have the same overlaps: did the second call pass iou_threshold=0.9? "
            "(A 0.9 threshold lets near-duplicates through.)"
        )
    return True, (
        f"0.3 kept {n_strict} boxes, 0.9 kept {n_loose}: the extra ones are near-duplicates of "
        "boxes already kept, false positives that lower precision."
    )


ex2 = Exercise(
    "ex2",
    "The patch classifier of section 1 runs on a 320x480 photo. What is the (rows, columns) "
    "of its grid of predictions?",
    _fcn_grid,
    hint="The base shrinks each side by 32; a 3x3 kernel without padding fits n - 2 times "
    "into n cells.",
    solution="answer = (320 // 32 - 2, 480 // 32 - 2)  # (8, 13)",
    kind="predict",
)

ex3 = Exercise(
    "ex3",
    "What is the output shape (height, width, channels) of "
    "Conv2DTranspose(16, 3, strides=2, padding='valid') on a 16x16x64 feature map?",
    _transpose_shape,
    hint="Spread the 16 pixels out with stride 2 (how far apart are the first and the last?), "
    "then a 3x3 kernel centred on each reaches one pixel further on both sides.",
    solution="answer = ((16 - 1) * 2 + 3, (16 - 1) * 2 + 3, 16)  # (33, 33, 16)",
)

ex4 = Exercise(
    "ex4",
    "Apply non-max suppression by hand (IoU threshold 0.5) to NMS_BOXES with NMS_SCORES from "
    "course_utils.exercises.lesson08. Which indices are kept, best first?",
    _nms_by_hand,
    hint="Start from the highest score; boxes.iou_matrix(NMS_BOXES, NMS_BOXES) gives every "
    "overlap at once.",
    solution="answer = [1, 3, 2]  # 0 overlaps 1 with IoU ~0.9; 3 overlaps 1 with IoU ~0.16",
)

ex5 = Exercise(
    "ex5",
    "A YOLOv2-style head predicts, on a 13x13 grid, 5 anchor boxes per cell, each with 4 box "
    "numbers, an objectness score and 20 class scores (PASCAL VOC). How many numbers is that "
    "per image?",
    _yolo_size,
    hint="Write down the output tensor's shape first, as in section 2, then multiply.",
    solution="answer = 13 * 13 * 5 * (5 + 20)  # 21,125",
)

ex6 = Exercise(
    "ex6",
    "Modify and observe: decode the detector's held-out outputs (test_raw) again, once with "
    "NMS at iou_threshold=0.3 and once at 0.9 (detector.detect, default score threshold). "
    "Hand in (decoded at 0.3, decoded at 0.9); then compare their mAP@0.5 with the lesson's.",
    _nms_threshold,
    hint="detector.detect takes iou_threshold as a keyword; call it twice and count the boxes "
    "with sum(len(d) for d in ...).",
    solution=(
        "strict = detector.detect(test_raw, anchors, iou_threshold=0.3)\n"
        "loose = detector.detect(test_raw, anchors, iou_threshold=0.9)\n"
        "answer = (strict, loose)\n"
        "for found in answer:\n"
        "    print(detection.mean_average_precision(found, det_test.boxes, det_test.labels,\n"
        "                                           len(DET_CLASSES))[0])"
    ),
    kind="modify",
)


# --------------------------------------------------------------------------- test answers


def _cluster_outputs() -> np.ndarray:
    """Raw head outputs for 2 scenes: each has one object claimed by many shifted anchors."""
    rng = np.random.default_rng(0)
    out = np.full((2, 4, 4, 3, 7), -8.0)
    for i in range(2):
        out[i, 1:3, 1:3, :, :4] = rng.normal(0, 0.3, size=(2, 2, 3, 4))
        out[i, 1:3, 1:3, :, 4] = rng.uniform(0, 4, size=(2, 2, 3))
        out[i, 1:3, 1:3, :, 5] = 5.0
        out[i, 1, 1, 2, :4] = out[i, 1, 1, 0, :4]  # an almost exact duplicate (IoU ~0.97)
    return out


_ANCHORS = np.array([[0.3, 0.3], [0.35, 0.3], [0.3, 0.31]])


def _decoded(iou: float | None) -> list[detection.Detections]:
    return [
        detection.decode_yolo(o, _ANCHORS, score_threshold=0.05, iou_threshold=iou)
        for o in _cluster_outputs()
    ]


CASES = [
    Case("ex1", (32, 6, 6, 5, 8), correct=True),
    Case("ex1", (6, 6, 5, 8), says="batch axis"),
    Case("ex1", (32, 6, 6, 5, 7), says="objectness"),
    Case("ex1", (32, 6, 6, 5, 5), says="one score per class"),
    Case("ex1", (32, 6, 6, 40), says="two axes"),
    Case("ex1", (32, 7, 7, 5, 8), says="divides"),
    Case("ex2", (8, 13), correct=True),
    Case("ex2", (10, 15), says="feature map"),
    Case("ex2", (13, 8), says="Rows first"),
    Case("ex3", (33, 33, 16), correct=True),
    Case("ex3", (32, 32, 16), says="padding='same'"),
    Case("ex3", (16, 16, 16), says="doubles"),
    Case("ex3", (33, 33, 64), says="number of filters"),
    Case("ex4", [1, 3, 2], correct=True),
    Case("ex4", [0, 1, 3, 2], says="overlap almost completely"),
    Case("ex4", [2, 3, 1], says="best first"),
    Case("ex4", [1, 2], says="Box 3"),
    Case("ex5", 13 * 13 * 5 * 25, correct=True),
    Case("ex5", 13 * 13 * (5 * 5 + 20), says="YOLOv1"),
    Case("ex5", 13 * 13 * 5 * 24, says="objectness"),
    Case("ex6", build=lambda: (_decoded(0.3), _decoded(0.9)), correct=True, says="kept"),
    Case("ex6", build=lambda: (_decoded(0.5), _decoded(0.9)), says="iou_threshold=0.3"),
    Case("ex6", build=lambda: (_decoded(0.3), _decoded(None)), says="without NMS"),
    Case("ex6", build=lambda: (_decoded(0.3), _decoded(0.3)), says="second call"),
    Case("ex6", build=lambda: ([1, 2], [3]), says="detector.detect returned"),
]
