"""Box geometry: formats, areas, Intersection over Union, the IoU metric, drawing (lessons 07-08).

The maths of detection built on it (anchors, encoding, NMS, mAP) is in
:mod:`course_utils.detection`.

Two formats are used throughout, both as ``[..., 4]`` arrays of floats,
normalised to [0, 1] by the image width and height (pixel units work too,
as long as both boxes use the same ones):

* ``"corners"``: ``(x_min, y_min, x_max, y_max)``, what you draw and intersect;
* ``"center"``: ``(x_center, y_center, width, height)``, what lesson 07's box
  head regresses.

A box with ``x_max <= x_min`` or ``y_max <= y_min`` has zero area; its IoU
with anything (itself included) is 0. Note that ``tf.image`` orders corners
``(y_min, x_min, y_max, x_max)``; IoU does not care as long as both boxes use
the same order::

    >>> import numpy as np
    >>> a = np.array([[0.0, 0.0, 0.5, 0.5]])
    >>> b = np.array([[0.25, 0.0, 0.75, 0.5]])
    >>> round(float(iou_matrix(a, b)[0, 0]), 4)   # overlap 0.125 / union 0.375
    0.3333
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

BOX_FORMATS = ("corners", "center")


def _check_format(box_format: str) -> str:
    if box_format not in BOX_FORMATS:
        raise ValueError(f"box_format must be one of {BOX_FORMATS}, got {box_format!r}")
    return box_format


def _as_boxes(boxes: Any, what: str = "boxes") -> np.ndarray:
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, 4)
    if arr.shape[-1:] != (4,):
        raise ValueError(f"{what} must have shape [..., 4], got {arr.shape}")
    return arr


# --------------------------------------------------------------------------- formats


def corners_to_center(boxes: Any) -> np.ndarray:
    """``(x_min, y_min, x_max, y_max)`` -> ``(x_center, y_center, width, height)``.

    >>> corners_to_center([0.2, 0.4, 0.6, 1.0]).round(3).tolist()
    [0.4, 0.7, 0.4, 0.6]
    """
    b = _as_boxes(boxes)
    x0, y0, x1, y1 = np.moveaxis(b, -1, 0)
    return np.stack([(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0], axis=-1)


def center_to_corners(boxes: Any) -> np.ndarray:
    """``(x_center, y_center, width, height)`` -> ``(x_min, y_min, x_max, y_max)``.

    >>> center_to_corners([0.4, 0.7, 0.4, 0.6]).round(3).tolist()
    [0.2, 0.4, 0.6, 1.0]
    """
    b = _as_boxes(boxes)
    xc, yc, w, h = np.moveaxis(b, -1, 0)
    return np.stack([xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2], axis=-1)


def to_corners(boxes: Any, box_format: str) -> np.ndarray:
    """Any supported format -> corners (a copy).

    >>> to_corners([0.5, 0.5, 1.0, 1.0], "center").tolist()
    [0.0, 0.0, 1.0, 1.0]
    """
    if _check_format(box_format) == "center":
        return center_to_corners(boxes)
    return _as_boxes(boxes).copy()


def box_area(boxes: Any) -> np.ndarray:
    """Area of corner-format boxes; flipped or degenerate boxes have area 0.

    >>> box_area([[0, 0, 2, 3], [1, 1, 1, 5], [2, 2, 1, 1]]).tolist()
    [6.0, 0.0, 0.0]
    """
    b = _as_boxes(boxes)
    w = np.clip(b[..., 2] - b[..., 0], 0, None)
    h = np.clip(b[..., 3] - b[..., 1], 0, None)
    return w * h


# --------------------------------------------------------------------------- IoU


def _iou_broadcast(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of corner boxes ``a`` and ``b`` whose leading shapes broadcast together."""
    inter_w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    inter_h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = inter_w * inter_h
    union = box_area(a) + box_area(b) - inter
    safe = np.where(union > 0, union, 1.0)
    return np.where(union > 0, inter / safe, 0.0)


def iou_matrix(boxes_a: Any, boxes_b: Any, box_format: str = "corners") -> np.ndarray:
    """Pairwise IoU, vectorised: ``[N, 4]`` and ``[M, 4]`` -> ``[N, M]``.

    Entry ``[i, j]`` is area(a_i ∩ b_j) / area(a_i ∪ b_j). No Python loop:
    ``a[:, None]`` against ``b[None, :]`` broadcasts every pair at once.

    >>> iou_matrix([[0, 0, 1, 1]], [[0, 0, 1, 1], [2, 2, 3, 3]]).tolist()
    [[1.0, 0.0]]
    """
    a = to_corners(boxes_a, box_format).reshape(-1, 4)
    b = to_corners(boxes_b, box_format).reshape(-1, 4)
    return _iou_broadcast(a[:, None, :], b[None, :, :])


def paired_iou(boxes_a: Any, boxes_b: Any, box_format: str = "corners") -> np.ndarray:
    """IoU of matching rows: ``[N, 4]`` and ``[N, 4]`` -> ``[N]`` (the diagonal of the matrix).

    This is what "predicted box i against true box i" needs.

    >>> paired_iou([[0, 0, 2, 2]], [[1, 0, 3, 2]]).round(4).tolist()
    [0.3333]
    """
    a = to_corners(boxes_a, box_format)
    b = to_corners(boxes_b, box_format)
    return _iou_broadcast(a, b)


def _paired_iou_tensor(y_true: Any, y_pred: Any, box_format: str) -> Any:
    """The same as :func:`paired_iou`, with ``keras.ops`` so it runs inside a model."""
    if box_format == "center":

        def corners(t: Any) -> Any:
            xc, yc, w, h = t[..., 0], t[..., 1], t[..., 2], t[..., 3]
            return xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2
    else:

        def corners(t: Any) -> Any:
            return t[..., 0], t[..., 1], t[..., 2], t[..., 3]

    ax0, ay0, ax1, ay1 = corners(y_true)
    bx0, by0, bx1, by1 = corners(y_pred)
    zero = ops.zeros_like(ax0)
    inter = ops.maximum(ops.minimum(ax1, bx1) - ops.maximum(ax0, bx0), zero) * ops.maximum(
        ops.minimum(ay1, by1) - ops.maximum(ay0, by0), zero
    )
    area_a = ops.maximum(ax1 - ax0, zero) * ops.maximum(ay1 - ay0, zero)
    area_b = ops.maximum(bx1 - bx0, zero) * ops.maximum(by1 - by0, zero)
    return ops.divide_no_nan(inter, area_a + area_b - inter)


@keras.saving.register_keras_serializable(package="course_utils", name="BoxIoU")
class BoxIoU(keras.metrics.Metric):
    """Mean IoU between predicted and true boxes, for ``model.compile(metrics=...)``.

    Not to be confused with ``keras.metrics.MeanIoU``, which compares
    *segmentation* label maps class by class (a confusion matrix of pixels),
    not boxes.

    >>> m = BoxIoU(box_format="corners")
    >>> m.update_state([[0.0, 0.0, 0.5, 0.5]], [[0.25, 0.0, 0.75, 0.5]])
    >>> round(float(m.result()), 4)
    0.3333
    """

    def __init__(
        self, box_format: str = "center", name: str = "box_iou", dtype: Any = None
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.box_format = _check_format(box_format)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true = ops.convert_to_tensor(y_true, dtype=self.dtype)
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        iou = ops.reshape(_paired_iou_tensor(y_true, y_pred, self.box_format), (-1,))
        if sample_weight is None:
            weight = ops.ones_like(iou)
        else:
            weight = ops.reshape(ops.cast(sample_weight, self.dtype), (-1,))
            weight = ops.broadcast_to(weight, ops.shape(iou))
        self.total.assign_add(ops.sum(iou * weight))
        self.count.assign_add(ops.sum(weight))

    def result(self) -> Any:
        return ops.divide_no_nan(self.total, self.count)

    def reset_state(self) -> None:
        self.total.assign(0.0)
        self.count.assign(0.0)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "box_format": self.box_format}


# --------------------------------------------------------------------------- drawing


def draw_boxes(
    ax: Any,
    boxes: Any,
    labels: Sequence[str] | None = None,
    *,
    box_format: str = "corners",
    image_size: tuple[int, int] | None = None,
    color: str = "lime",
    linestyle: str = "-",
) -> None:
    """Draw boxes on a matplotlib axis that shows an image.

    Normalised boxes need ``image_size=(height, width)`` to be scaled to
    pixels; pixel boxes leave it as None.

    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> draw_boxes(ax, [[0.1, 0.1, 0.5, 0.5]], ["cat"], image_size=(100, 100))
    >>> len(ax.patches)
    1
    """
    from matplotlib.patches import Rectangle

    corners = to_corners(boxes, box_format).reshape(-1, 4)
    if image_size is not None:
        height, width = image_size
        corners = corners * np.array([width, height, width, height])
    if labels is not None and len(labels) != len(corners):
        raise ValueError(f"{len(corners)} boxes but {len(labels)} labels")
    for i, (x0, y0, x1, y1) in enumerate(corners):
        ax.add_patch(
            Rectangle(
                (x0, y0),
                x1 - x0,
                y1 - y0,
                fill=False,
                edgecolor=color,
                linewidth=2,
                linestyle=linestyle,
            )
        )
        if labels is not None:
            ax.text(
                x0,
                y0,
                str(labels[i]),
                color="black",
                fontsize=8,
                va="bottom",
                bbox={"facecolor": color, "alpha": 0.8, "pad": 1, "edgecolor": "none"},
            )
