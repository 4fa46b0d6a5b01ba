"""Exercises for lesson 08 (detection and segmentation).

Checkers compute the answer: shapes with Keras, suppression with
:func:`course_utils.detection.non_max_suppression`.
"""

from __future__ import annotations

import numpy as np

from course_utils import detection
from course_utils.exercises import Exercise

NMS_BOXES = np.array(
    [
        [0.10, 0.10, 0.50, 0.50],
        [0.12, 0.10, 0.52, 0.50],
        [0.60, 0.60, 0.90, 0.90],
        [0.30, 0.30, 0.70, 0.70],
    ]
)
NMS_SCORES = np.array([0.9, 0.95, 0.6, 0.8])


def _fcn_grid(answer: object) -> bool | tuple[bool, str]:
    got = tuple(int(v) for v in answer)
    features = (320 // 32, 480 // 32)
    expected = (features[0] - 2, features[1] - 2)
    if got == expected:
        return True
    if got == features:
        return False, "That is the feature map; a 3x3 'valid' convolution trims one cell per side."
    return False, "MobileNetV2 divides height and width by 32, then the 3x3 head removes 2."


def _transpose_shape(answer: object) -> bool | tuple[bool, str]:
    import keras

    layer = keras.layers.Conv2DTranspose(32, 3, strides=2, padding="same")
    expected = tuple(layer.compute_output_shape((None, 16, 16, 64))[1:])
    got = tuple(int(v) for v in answer)
    if got == expected:
        return True
    if got[:2] == (16, 16):
        return False, "strides=2 in a transposed convolution doubles the height and width."
    if got[-1] == 64:
        return False, "The number of channels becomes the number of filters."
    return False, "Answer (height, width, channels) of the output."


def _nms_by_hand(answer: object) -> bool | tuple[bool, str]:
    expected = detection.non_max_suppression(NMS_BOXES, NMS_SCORES, iou_threshold=0.5).tolist()
    got = [int(v) for v in answer]
    if got == expected:
        return True
    if sorted(got) == sorted(expected):
        return False, "The right boxes, but list them in the order NMS keeps them (best first)."
    if 0 in got and 1 in got:
        return False, "Boxes 0 and 1 overlap almost completely: only the better one survives."
    return False, "Start from the highest score, drop what overlaps it with IoU > 0.5, repeat."


def _yolo_size(answer: object) -> bool | tuple[bool, str]:
    expected = 13 * 13 * 5 * (5 + 20)
    if int(answer) == expected:
        return True
    if int(answer) == 13 * 13 * (5 * 5 + 20):
        return False, "That is YOLOv1-style (classes per cell); here each anchor has its own."
    return False, "Grid cells x anchors x (4 box numbers + objectness + 20 class scores)."


ex1 = Exercise(
    "ex1",
    "The lesson's patch classifier (MobileNetV2 base, 96x96 input, 3x3 convolutional head) "
    "runs on a 320x480 photo. What is the (rows, columns) of its grid of predictions?",
    _fcn_grid,
    hint="The base shrinks each side by 32; a 3x3 kernel without padding fits n - 2 times "
    "into n cells.",
    solution="answer = (320 // 32 - 2, 480 // 32 - 2)  # (8, 13)",
)

ex2 = Exercise(
    "ex2",
    "What is the output shape (height, width, channels) of "
    "Conv2DTranspose(32, 3, strides=2, padding='same') on a 16x16x64 feature map?",
    _transpose_shape,
    hint="Transposed convolution with stride 2 is the 'inverse' of a stride-2 convolution.",
    solution="answer = (32, 32, 32)",
)

ex3 = Exercise(
    "ex3",
    "Apply non-max suppression by hand (IoU threshold 0.5) to NMS_BOXES with NMS_SCORES from "
    "course_utils.exercises.lesson08. Which indices are kept, best first?",
    _nms_by_hand,
    hint="Sort by score: 1 (0.95), 0 (0.9), 3 (0.8), 2 (0.6). Use iou_matrix to check overlaps.",
    solution="answer = [1, 3, 2]  # 0 overlaps 1 with IoU ~0.9; 3 overlaps 1 with IoU ~0.16",
)

ex4 = Exercise(
    "ex4",
    "A YOLO-style head predicts, on a 13x13 grid, 5 anchor boxes per cell, each with 4 box "
    "numbers, an objectness score and 20 class scores (PASCAL VOC). How many numbers is that?",
    _yolo_size,
    hint="The output tensor has shape [13, 13, 5, 5 + 20].",
    solution="answer = 13 * 13 * 5 * (5 + 20)  # 21,125",
)
