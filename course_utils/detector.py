"""A small one-stage detector for lesson 08: a YOLO-style head, its loss, and its detections.

The head reads a frozen backbone's feature map ``[S, S, channels]`` and
outputs, for each of the S x S cells and each of B anchors, the ``5 + C``
raw numbers that :func:`course_utils.detection.decode_yolo` turns into
boxes. :class:`YoloLoss` compares them with the targets of
:func:`course_utils.detection.yolo_targets`::

    >>> head = detection_head(grid_size=6, channels=1280, num_anchors=3, num_classes=3)
    >>> head.output_shape
    (None, 6, 6, 3, 8)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from course_utils.detection import Detections, decode_yolo


def detection_head(
    grid_size: int,
    channels: int,
    num_anchors: int,
    num_classes: int,
    width: int = 128,
    dropout: float = 0.2,
    object_prior: float = 0.01,
) -> keras.Model:
    """The class + box head: ``[S, S, channels]`` features -> ``[S, S, B, 5 + C]`` raw numbers.

    A 1x1 convolution shrinks the channels to ``width``, a 3x3 one lets each
    cell see its neighbours, and a final 1x1 convolution gives every anchor
    its 4 box numbers, an objectness logit and C class logits: the FCN of
    the lesson's section 1 with a YOLO output. The objectness bias starts at
    ``logit(object_prior)``, since nearly every slot holds no object
    (RetinaNet's trick, so that the first steps are not spent learning that).

    >>> detection_head(6, 1280, 3, 3, width=16).count_params()
    23224
    """
    if min(grid_size, channels, num_anchors, num_classes, width) < 1:
        raise ValueError("grid_size, channels, num_anchors, num_classes and width must be >= 1")
    if not 0.0 < object_prior < 1.0:
        raise ValueError(f"object_prior must be between 0 and 1, got {object_prior}")
    per_anchor = 5 + num_classes
    features = keras.Input((grid_size, grid_size, channels), name="features")
    x = keras.layers.Conv2D(width, 1, activation="relu", name="squeeze")(features)
    x = keras.layers.Conv2D(width, 3, padding="same", activation="relu", name="neighbours")(x)
    x = keras.layers.Dropout(dropout)(x)
    raw = keras.layers.Conv2D(num_anchors * per_anchor, 1, name="predict")(x)
    out = keras.layers.Reshape((grid_size, grid_size, num_anchors, per_anchor), name="slots")(raw)
    head = keras.Model(features, out, name="detection_head")
    bias = np.zeros((num_anchors, per_anchor), np.float32)
    bias[:, 4] = np.log(object_prior / (1 - object_prior))
    layer = head.get_layer("predict")
    layer.bias.assign(bias.reshape(-1))
    return head


@keras.saving.register_keras_serializable(package="course_utils", name="YoloLoss")
class YoloLoss(keras.losses.Loss):
    """YOLO-style loss per image, summed over all ``S x S x B`` slots.

    * objectness: binary cross-entropy of ``sigmoid(raw[4])`` against 1 on
      the matched slots and 0 elsewhere (the empty slots weighted by
      ``empty_weight``, since there are far more of them); slots whose
      target objectness is -1 (``yolo_targets(..., ignore_iou=...)``) add
      nothing;
    * box, on matched slots only: squared error of ``sigmoid(raw[0:2])``
      against the offsets in the cell and of ``raw[2:4]`` against the log
      size ratios, times ``box_weight``;
    * class, on matched slots only: softmax cross-entropy.

    Predicting the targets themselves gives (almost) zero loss:

    >>> from course_utils.detection import encode_yolo, yolo_targets
    >>> box, anchors = [[0.1, 0.1, 0.4, 0.5]], [[0.3, 0.4]]
    >>> perfect = encode_yolo(box, [1], grid_size=2, anchors=anchors, num_classes=2)
    >>> target = yolo_targets([box], [[1]], grid_size=2, anchors=anchors, num_classes=2)
    >>> round(float(YoloLoss()(target, perfect[None].astype("float32"))), 4)
    0.0
    """

    def __init__(
        self,
        box_weight: float = 5.0,
        empty_weight: float = 0.5,
        name: str = "yolo_loss",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.box_weight = box_weight
        self.empty_weight = empty_weight

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y_true = ops.convert_to_tensor(y_true, dtype=y_pred.dtype)
        matched = ops.cast(y_true[..., 4] > 0.5, y_pred.dtype)
        empty = ops.cast(ops.abs(y_true[..., 4]) < 0.5, y_pred.dtype)  # not -1, "don't care"
        objectness = ops.binary_crossentropy(matched, y_pred[..., 4], from_logits=True)
        weight = matched + self.empty_weight * empty
        offsets = ops.sum(ops.square(ops.sigmoid(y_pred[..., 0:2]) - y_true[..., 0:2]), axis=-1)
        sizes = ops.sum(ops.square(y_pred[..., 2:4] - y_true[..., 2:4]), axis=-1)
        classes = ops.sparse_categorical_crossentropy(
            ops.cast(y_true[..., 5], "int32"), y_pred[..., 5:], from_logits=True
        )
        per_slot = weight * objectness + matched * (self.box_weight * (offsets + sizes) + classes)
        return ops.sum(ops.reshape(per_slot, (ops.shape(per_slot)[0], -1)), axis=-1)

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {
            "box_weight": self.box_weight,
            "empty_weight": self.empty_weight,
        }


def detect(
    outputs: Any,
    anchors: Any,
    score_threshold: float = 0.05,
    iou_threshold: float | None = 0.5,
) -> list[Detections]:
    """Decode a batch of head outputs ``[n, S, S, B, 5 + C]``: one :class:`Detections` per image.

    A low ``score_threshold`` keeps the weak boxes too, which mAP needs to
    trace the whole precision-recall curve; raise it to draw the boxes.

    >>> out = np.full((1, 2, 2, 1, 6), -9.0)
    >>> out[0, 1, 0, 0] = [0.0, 0.0, 0.0, 0.0, 9.0, 0.0]
    >>> [len(d) for d in detect(out, anchors=[[0.5, 0.5]])]
    [1]
    """
    raw = np.asarray(outputs)
    if raw.ndim != 5:
        raise ValueError(f"outputs must be [n, S, S, B, 5 + C], got shape {raw.shape}")
    return [decode_yolo(o, anchors, score_threshold, iou_threshold) for o in raw]


def recall_at(
    detections: Sequence[Detections],
    true_boxes: Sequence[Any],
    iou_threshold: float = 0.5,
) -> float:
    """Share of the true boxes that some detection overlaps with IoU >= ``iou_threshold``.

    Classes are ignored: this asks whether the boxes were found at all.

    >>> found = Detections(np.array([[0, 0, 1, 1.0]]), np.array([0.9]), np.array([0]))
    >>> recall_at([found], [[[0, 0, 1, 1], [2, 2, 3, 3]]])
    0.5
    """
    from course_utils.boxes import iou_matrix

    hit = total = 0
    for d, truth in zip(detections, true_boxes, strict=True):
        t = np.asarray(truth, dtype=np.float64).reshape(-1, 4)
        total += len(t)
        if len(t) and len(d):
            hit += int((iou_matrix(t, d.boxes).max(axis=1) >= iou_threshold).sum())
    if total == 0:
        raise ValueError("no true boxes: recall is undefined")
    return hit / total
